// memtide compare's viewer: both traces on one time axis (from each trace's zero, in the unit
// D.time names: seconds, minutes or hours, as the static chart's),
// uPlot charts with one cursor and one zoom: drag across a chart to zoom, double-click to show
// all; the readout names every line's value at the cursor. Reads the JSON in #data; logs
// nothing; sets data-ready="1" on <body> when drawn, data-errors when something failed.
(function () {
  "use strict";
  var errors = [];
  function fail(msg) {
    errors.push(msg);
    document.body.setAttribute("data-errors", String(errors.length));
    document.getElementById("errors").textContent = errors.join("\n");
  }
  window.addEventListener("error", function (e) { fail(e.message); });
  var D = JSON.parse(document.getElementById("data").textContent);

  // The same binary units, digits and rounding as memtide's text report (assets/units.js).
  function fmtBytes(v) { return memtideUnits.fmtBytes(v, "–"); }

  // Time ticks at round steps of seconds, minutes and hours (the data are in seconds), to a
  // tenth of a second: the ticks say two decimals of the axis's unit.
  var TIME_STEPS = memtideUnits.TIME_STEPS.filter(function (s) { return s >= 0.1; });
  // A tick in the axis's unit, as short as it can be said: 4, 2.5, 0.25, −1.5.
  function tick(v) { return String(Math.round(v / D.time.seconds * 100) / 100 + 0).replace("-", "−"); }
  // A moment for the readout and the range: 12.5 s, 2 min 5.0 s, 1 h 2 min 3.4 s; before
  // time zero with a minus sign.
  function offset(v) {
    var a = Math.round(Math.abs(v) * 10) / 10, h = Math.floor(a / 3600), m = Math.floor((a - h * 3600) / 60);
    var s = (a - h * 3600 - m * 60).toFixed(1) + " s";
    if (h || m) s = m + " min " + s;
    if (h) s = h + " h " + s;
    return (v < 0 && a > 0 ? "−" : "") + s;
  }
  function range(min, max) { return offset(min) + " to " + offset(max); }

  // The lines of one chart on one x array: the union of their times, null where a line has
  // no sample.
  function aligned(lines) {
    var xs = [], seen = {};
    lines.forEach(function (l) { l.points.forEach(function (p) { if (!seen[p[0]]) { seen[p[0]] = 1; xs.push(p[0]); } }); });
    xs.sort(function (a, b) { return a - b; });
    var index = {};
    xs.forEach(function (x, i) { index[x] = i; });
    var ys = lines.map(function (l) {
      var y = new Array(xs.length).fill(null);
      l.points.forEach(function (p) { y[index[p[0]]] = p[1]; });
      return y;
    });
    return [xs].concat(ys);
  }

  var charts = [], zooming = false, drawn = {};
  function painted(u, name) {
    if (drawn[name]) return;
    drawn[name] = true;
    try {
      var c = u.ctx.canvas, d = u.ctx.getImageData(0, 0, c.width, c.height).data, n = 0;
      for (var k = 3; k < d.length; k += 4) if (d[k] !== 0) n++;
      document.body.setAttribute("data-painted-" + name, String(n));
    } catch (e) { fail(e.message); }
  }

  function readout(u) {
    var i = u.cursor.idx, out = document.getElementById("readout");
    if (i == null) return;
    var x = u.data[0][i], rows = ["<b>" + escapeHtml(offset(x) + " from " + D.align) + "</b>"];
    charts.forEach(function (c) {
      var j = nearest(c.data[0], x);
      c.series.forEach(function (s, k) {
        if (k === 0) return;
        var v = j == null ? null : c.data[k][j];
        rows.push('<span style="color:' + s._stroke + '">' + escapeHtml(s.label) + "</span> " + fmtBytes(v));
      });
    });
    out.innerHTML = rows.join("<br>");
  }
  function nearest(xs, x) {
    if (!xs.length) return null;
    var lo = 0, hi = xs.length - 1;
    while (lo < hi) { var m = (lo + hi) >> 1; if (xs[m] < x) lo = m + 1; else hi = m; }
    if (lo > 0 && Math.abs(xs[lo - 1] - x) < Math.abs(xs[lo] - x)) lo--;
    return lo;
  }
  function escapeHtml(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function chart(panel, el) {
    var width = Math.max(320, el.clientWidth || 900);
    var series = [{ label: "time", value: function (u, v) { return v == null ? "–" : offset(v); } }].concat(panel.lines.map(function (l) {
      return { label: l.label, stroke: l.color, width: l.available ? 2.5 : 2, dash: l.dashed ? [8, 5] : undefined,
               spanGaps: true, value: function (u, v) { return fmtBytes(v); } };
    }));
    // uPlot turns `stroke` into a function; the readout wants the colour itself.
    series.forEach(function (s) { s._stroke = s.stroke; });
    var opts = {
      width: width, height: panel.height, title: panel.title,
      scales: { x: { time: false, min: D.x[0], max: D.x[1] },
                y: panel.y_max == null ? {} : { range: [0, panel.y_max] } },
      axes: [{ label: D.time.desc, incrs: TIME_STEPS, values: function (u, vals) { return vals.map(tick); } }, { label: "memory", size: 80, incrs: memtideUnits.BYTE_STEPS, values: function (u, vals) { return vals.map(fmtBytes); } }],
      series: series,
      cursor: { sync: { key: "memtide-compare" }, drag: { x: true, y: false } },
      legend: { show: true },
      hooks: {
        draw: [function (u) { painted(u, panel.name); }],
        setCursor: [readout],
        setScale: [function (u, key) {
          if (key !== "x" || zooming) return;
          zooming = true;
          charts.forEach(function (c) { if (c !== u) c.setScale("x", { min: u.scales.x.min, max: u.scales.x.max }); });
          zooming = false;
          document.getElementById("range").textContent = range(u.scales.x.min, u.scales.x.max);
        }],
      },
    };
    var u = new uPlot(opts, aligned(panel.lines), el);
    charts.push(u);
    return u;
  }

  try {
    var box = document.getElementById("charts");
    D.panels.forEach(function (p) {
      var el = document.createElement("div");
      el.className = "chart";
      el.id = "chart-" + p.name;
      box.appendChild(el);
      chart(p, el);
    });
    document.getElementById("range").textContent = range(D.x[0], D.x[1]);
    document.getElementById("reset").addEventListener("click", function () {
      charts.forEach(function (c) { c.setScale("x", { min: D.x[0], max: D.x[1] }); });
    });
    box.addEventListener("dblclick", function () {
      charts.forEach(function (c) { c.setScale("x", { min: D.x[0], max: D.x[1] }); });
    });
    document.body.setAttribute("data-ready", "1");
  } catch (e) {
    fail(e.message);
  }
})();
