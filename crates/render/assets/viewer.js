// memtide's viewer: the trace embedded in this page (#memtide-data), drawn by uPlot in three
// panels on one time axis. Strings from the trace reach the page as text only (textContent),
// never as markup.
(function () {
  "use strict";
  var errors = [];
  function fail(message) {
    errors.push(String(message));
    document.body.setAttribute("data-errors", String(errors.length));
    var box = document.getElementById("errors");
    box.hidden = false;
    box.textContent = "The viewer hit an error: " + errors.join("\n");
  }
  window.addEventListener("error", function (e) { fail(e.message); });

  var D = JSON.parse(document.getElementById("memtide-data").textContent);
  var N = D.x.length;
  // What the machine never used while recording is left out, as the static chart leaves it
  // out; the page says so once, under the system chart.
  var NO_SWAP = D.left_out.indexOf("swap") >= 0, NO_COMPRESSOR = D.left_out.indexOf("compressor") >= 0;
  var CHARTS = NO_SWAP ? 2 : 3;
  // In the data, -1 is "no sample of this series at this time" (another series has one):
  // undefined for uPlot, which draws the line on across it; null is a gap, where it breaks.
  function prep(a) {
    for (var i = 0; i < a.length; i++) if (a[i] === -1) a[i] = undefined;
    return a;
  }
  // For the table: each row's value is the series' last sample at or before it, none
  // before its first sample, after its last, or after a gap.
  function held(a) {
    var out = new Array(a.length), last = null, end = -1;
    for (var i = a.length - 1; i >= 0; i--) if (a[i] !== undefined) { end = i; break; }
    for (var j = 0; j < a.length; j++) {
      if (a[j] !== undefined) last = a[j];
      out[j] = j > end ? null : last;
    }
    return out;
  }
  D.procs.forEach(function (p) {
    prep(p.memory); prep(p.footprint); prep(p.rss);
    p.heldMemory = held(p.memory); p.heldFootprint = held(p.footprint); p.heldRss = held(p.rss);
  });
  var H = {};
  ["available", "free_percent", "wired", "compressor", "swap"].forEach(function (k) {
    prep(D.sys[k]);
    H[k] = held(D.sys[k]);
  });
  // uPlot's x: seconds, shifted by the local offset and shown as UTC, so that its labels
  // are the trace's local times whatever the browser's zone.
  var xs = D.x.map(function (t) { return (D.start_epoch_ms + t + D.offset_ms) / 1000; });

  // The same binary units, digits and rounding as memtide's text report (assets/units.js).
  var fixed = memtideUnits.fixed;
  function fmtBytes(b) { return memtideUnits.fmtBytes(b, "-"); }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function fmtTime(sec, withMs) {
    var d = new Date(Math.round(sec * 1000));
    var s = two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
    if (withMs) { var ms = d.getUTCMilliseconds(); s += "." + (ms < 100 ? (ms < 10 ? "00" : "0") : "") + ms; }
    return s;
  }
  function fmtDate(sec) {
    var d = new Date(Math.round(sec * 1000));
    return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate());
  }
  function isoUtc(tMs) { return new Date(D.start_epoch_ms + tMs).toISOString(); }

  // Each band and marker carries its colour (and a marker its dash) from the page's data: the
  // chart's own, one rule for both.

  // Bands under the lines, markers over them; marker labels on the top panel, two lanes,
  // a label that would touch another left out.
  function drawBands(u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    D.bands.forEach(function (b) {
      var x0 = u.valToPos(xAt(b.start), "x", true), x1 = u.valToPos(xAt(b.end), "x", true);
      ctx.fillStyle = b.color;
      ctx.fillRect(x0, top, Math.max(x1 - x0, 1), h);
    });
    ctx.restore();
  }
  function drawMarkers(labels) {
    return function (u) {
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, dpr = window.devicePixelRatio || 1;
      var lanes = [[], []];
      if (labels) unlabelled = [];
      ctx.save();
      ctx.font = Math.round(11 * dpr) + "px sans-serif";
      ctx.textBaseline = "top";
      D.markers.forEach(function (m) {
        var x = Math.round(u.valToPos(xAt(m.t), "x", true)) + 0.5;
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.strokeStyle = m.color;
        ctx.lineWidth = dpr;
        ctx.setLineDash(m.dashed ? [5 * dpr, 4 * dpr] : []);
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
        if (!labels) return;
        var w = ctx.measureText(m.label).width, gap = 10 * dpr;
        var x0 = x + 3 * dpr, x1 = x0 + w;
        if (x1 > u.bbox.left + u.bbox.width) { x1 = x - 3 * dpr; x0 = x1 - w; }
        var placed = false;
        for (var lane = 0; lane < 2 && !placed; lane++) {
          var free = lanes[lane].every(function (r) { return x1 + gap < r[0] || x0 > r[1] + gap; });
          if (free) {
            lanes[lane].push([x0, x1]);
            ctx.fillStyle = ctx.strokeStyle;
            // In the room left above the plot (the panel's top padding), never on the data.
            ctx.fillText(m.label, x0, top - LABEL_ROOM * dpr + 2 * dpr + lane * 13 * dpr);
            ctx.beginPath(); ctx.moveTo(x, top - LABEL_ROOM * dpr + lane * 13 * dpr); ctx.lineTo(x, top); ctx.stroke();
            placed = true;
          }
        }
        // Left out for room: named on hover instead (showTip).
        if (!placed) unlabelled.push({ left: (x - u.bbox.left) / dpr, label: m.label, color: ctx.strokeStyle, t: m.t });
      });
      ctx.restore();
      if (labels) {
        document.body.setAttribute("data-labels-hidden", String(unlabelled.length));
        document.body.setAttribute("data-hidden-at", unlabelled.map(function (m) { return isoUtc(m.t); }).join(" "));
        showTip(lastLeft);
      }
    };
  }
  // The markers of the top panel whose labels were left out for room, where they are drawn
  // (CSS pixels from the plot's left edge); the cursor's last position.
  var unlabelled = [], lastLeft = null, TIP_REACH = 6, procChart = null;
  // With the cursor within TIP_REACH pixels of such markers, their labels show above the
  // plot, in their colour.
  function showTip(left) {
    lastLeft = left;
    var tip = document.getElementById("marker-tip");
    var near = left == null ? [] : unlabelled.filter(function (m) { return Math.abs(m.left - left) <= TIP_REACH; });
    if (!near.length || !procChart) { tip.hidden = true; tip.removeAttribute("data-label"); return; }
    var text = near.map(function (m) { return m.label; }).join(", ");
    tip.textContent = text;
    tip.setAttribute("data-label", text);
    tip.style.color = near[0].color;
    tip.style.left = Math.round(procChart.over.offsetLeft + near[0].left + 4) + "px";
    tip.style.top = Math.round(procChart.over.offsetTop - LABEL_ROOM + 2) + "px";
    tip.hidden = false;
  }
  var LABEL_ROOM = 30;
  function xAt(tMs) { return (D.start_epoch_ms + tMs + D.offset_ms) / 1000; }

  function bytesAxis() {
    return { incrs: memtideUnits.BYTE_STEPS, size: 74, values: function (u, splits) { return splits.map(function (v) { return fmtBytes(Math.round(v)); }); } };
  }
  // An empty right axis as wide as the system panel's free % axis, so that every panel's
  // time axis lines up.
  function spacerAxis() {
    return { side: 1, size: 56, grid: { show: false }, ticks: { show: false }, values: function (u, s) { return s.map(function () { return ""; }); } };
  }
  // How the time axis says a time over a window `span` seconds long, and the room each label
  // takes: 12:34:56.789 below 10 s, 12:34:56 to 10 min, 12:34 to 36 h, then 12-06 12:34.
  function timeForm(span) {
    if (span < 10) return { room: 90, say: function (s) { return fmtTime(s, true); } };
    if (span <= 600) return { room: 70, say: function (s) { return fmtTime(s); } };
    if (span <= 36 * 3600) return { room: 56, say: function (s) { return fmtTime(s).slice(0, 5); } };
    return { room: 96, say: function (s) { return fmtDate(s).slice(5) + " " + fmtTime(s).slice(0, 5); } };
  }
  function timeAxis(show) {
    return {
      space: function (u, axis, min, max) { return timeForm(max - min).room; },
      // Steps with 2 s and 2 min among them: with uPlot's own (1 s, then 5 s), a window of a
      // few seconds on a laptop-sized chart got a single label.
      incrs: memtideUnits.TIME_STEPS,
      // Only the bottom panel labels times; the others keep the grid, not the room.
      size: show ? 40 : 6,
      values: function (u, splits) {
        if (!show) return splits.map(function () { return ""; });
        var say = timeForm(u.scales.x.max - u.scales.x.min).say;
        // For the browser check: how many times the bottom axis labels now.
        document.body.setAttribute("data-time-labels", String(splits.length));
        return splits.map(say);
      }
    };
  }
  function peakRange(arrays, floor) {
    var m = floor || 0;
    arrays.forEach(function (a) { a.forEach(function (v) { if (v != null && v > m) m = v; }); });
    return m > 0 ? m : 1;
  }

  var charts = [];
  var syncing = false;
  function onScale(u, key) {
    if (key !== "x") return;
    var min = u.scales.x.min, max = u.scales.x.max;
    showRange(min, max);
    if (syncing) return;
    syncing = true;
    charts.forEach(function (c) { if (c !== u) c.setScale("x", { min: min, max: max }); });
    syncing = false;
  }
  function showRange(min, max) {
    var el = document.getElementById("range");
    el.textContent = fmtDate(min) + " " + fmtTime(min, true) + " – " + fmtTime(max, true);
  }

  function width() {
    var el = document.querySelector(".charts");
    return Math.max(320, Math.floor(el.clientWidth));
  }
  function heights() {
    var h = Math.max(window.innerHeight, 420);
    // Without swap, the system panel takes the swap panel's room.
    if (NO_SWAP) return [Math.max(150, Math.round(h * 0.34)), Math.max(160, Math.round(h * 0.36))];
    return [Math.max(150, Math.round(h * 0.34)), Math.max(120, Math.round(h * 0.24)), Math.max(80, Math.round(h * 0.12))];
  }

  function make(el, series, data, height, extra) {
    var opts = {
      width: width(),
      height: height,
      cursor: { y: false, sync: { key: "memtide" }, drag: { x: true, y: false } },
      legend: { live: false },
      scales: { x: { time: true } },
      series: [{ label: "time" }].concat(series),
      axes: [timeAxis(extra.times), bytesAxis()],
      hooks: {
        drawClear: [drawBands],
        draw: [drawMarkers(extra.labels), function (u) { painted(u, extra.name); }],
        setScale: [onScale],
        setCursor: [function (u) { if (u.cursor.idx != null) fill(u.cursor.idx); showTip(u.cursor.left >= 0 ? u.cursor.left : null); }]
      }
    };
    // Points only where samples lie far apart; lines alone where they are dense.
    series.forEach(function (s) { s.points = s.points || { space: 40 }; });
    if (extra.configure) extra.configure(opts);
    if (opts.axes.length < 3) opts.axes.push(spacerAxis());
    var u = new uPlot(opts, [xs].concat(data), el);
    charts.push(u);
    return u;
  }

  // How much of a chart's canvas was painted, for the browser test; and, once all three
  // have drawn, how long after navigation that was.
  var drawnCharts = {};
  function painted(u, name) {
    // Read once per chart: reading a canvas back on every redraw would slow zooming.
    if (drawnCharts[name]) return;
    drawnCharts[name] = true;
    if (Object.keys(drawnCharts).length === CHARTS) {
      document.body.setAttribute("data-ready-ms", performance.now().toFixed(0));
    }
    try {
      var c = u.ctx.canvas, d = u.ctx.getImageData(0, 0, c.width, c.height).data, n = 0;
      for (var k = 3; k < d.length; k += 4) if (d[k] !== 0) n++;
      document.body.setAttribute("data-painted-" + name, String(n));
    } catch (e) { fail(e.message); }
  }

  var hs = heights();
  var procSeries = D.procs.map(function (p) {
    return { label: p.label, stroke: p.color, width: p.runner ? 2 : 1, spanGaps: false, value: function (u, v) { return fmtBytes(v); } };
  });
  var procData = D.procs.map(function (p) { return D.metric === "rss" ? p.rss : D.metric === "footprint" ? p.footprint : p.memory; });
  procChart = make(document.getElementById("chart-processes"), procSeries, procData, hs[0], {
    name: "processes", labels: true, times: false,
    configure: function (o) {
      o.padding = [LABEL_ROOM + 4, null, 0, null];
      var top = peakRange(procData) * 1.1;
      o.scales.y = { auto: false, range: [0, top] };
    }
  });

  var sysSeries = [], sysData = [];
  var sysTop = peakRange([D.sys.available, D.sys.wired, D.sys.compressor], Math.max(D.total_bytes, D.gpu_wired_limit_bytes || 0)) * 1.06;
  if (D.available_source) {
    sysSeries.push({ label: "available (" + D.available_source + ")", stroke: "#111111", width: 2.5 });
    sysData.push(D.sys.available);
  }
  sysSeries.push({ label: "wired", stroke: "#ff7f0e", width: 1.5 });
  sysData.push(D.sys.wired);
  if (!NO_COMPRESSOR) {
    sysSeries.push({ label: "compressor", stroke: "#9467bd", width: 1.5 });
    sysData.push(D.sys.compressor);
  }
  if (D.total_bytes > 0) {
    sysSeries.push({ label: "total RAM", stroke: "#555555", width: 1, dash: [6, 4] });
    sysData.push(D.x.map(function () { return D.total_bytes; }));
  }
  if (D.gpu_wired_limit_bytes) {
    sysSeries.push({ label: "GPU wired limit", stroke: "#00897b", width: 1, dash: [6, 4] });
    sysData.push(D.x.map(function () { return D.gpu_wired_limit_bytes; }));
  }
  make(document.getElementById("chart-system"), sysSeries, sysData, hs[1], {
    name: "system", labels: false, times: NO_SWAP,
    configure: function (o) {
      o.scales.y = { auto: false, range: [0, sysTop] };
      if (D.has_free_percent && D.total_bytes > 0) {
        // 100 % free is all of RAM: the available line reads on both axes.
        var pct = sysTop / D.total_bytes * 100;
        o.scales.pct = { auto: false, range: [0, pct] };
        o.axes.push({ scale: "pct", side: 1, grid: { show: false }, size: 56, values: function (u, s) { return s.map(function (v) { return v.toFixed(0) + " %"; }); } });
      }
    }
  });

  if (!NO_SWAP) {
    var swapTop = peakRange([D.sys.swap]) * 1.15;
    make(document.getElementById("chart-swap"), [{ label: "swap used", stroke: "#c98e00", width: 1.5 }], [D.sys.swap], hs[2], {
      name: "swap", labels: false, times: true,
      configure: function (o) { o.scales.y = { auto: false, range: [0, swapTop] }; }
    });
  }
  showRange(xs[0], xs[N - 1]);

  // What was alive at row i, and the system then.
  var current = -1;
  function fill(i) {
    if (i == null || i < 0 || i >= N || i === current) return;
    current = i;
    var at = document.getElementById("at");
    at.textContent = "at " + fmtTime(xs[i], true);
    at.setAttribute("data-t", isoUtc(D.x[i]));
    var runnersOnly = document.getElementById("filter").value === "runners";
    var body = document.querySelector("#alive tbody");
    body.textContent = "";
    D.procs.forEach(function (p) {
      // Model memory only where the weights were counted; a footprint only where there is one.
      var mem = p.measure === "model_memory" ? p.heldMemory[i] : null;
      var fp = p.measure === "rss" ? null : p.heldFootprint[i], rss = p.heldRss[i];
      if (p.heldRss[i] == null) return;
      if (runnersOnly && !p.runner) return;
      var tr = document.createElement("tr");
      tr.setAttribute("data-pid", String(p.pid));
      [[p.name], [String(p.pid)], [fmtBytes(mem), mem, "model_memory"], [fmtBytes(fp), fp, "footprint"], [fmtBytes(rss), rss, "rss"]].forEach(function (c) {
        var td = document.createElement("td");
        td.textContent = c[0];
        if (c.length > 1 && c[1] != null) { td.setAttribute("data-bytes", String(c[1])); td.setAttribute("data-field", c[2]); }
        tr.appendChild(td);
      });
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = p.color;
      tr.firstChild.prepend(sw);
      body.appendChild(tr);
    });
    var sys = document.querySelector("#system-at tbody");
    sys.textContent = "";
    [
      ["available", H.available[i], D.available_source ? "available (" + D.available_source + ")" : "available"],
      ["free %", H.free_percent[i], "free %", true],
      ["pressure", D.sys.pressure[i], "pressure", true],
      ["wired", H.wired[i], "wired"],
      ["compressor", H.compressor[i], "compressor"],
      ["swap used", H.swap[i], "swap used"]
    ].filter(function (r) {
      return !(r[0] === "compressor" && NO_COMPRESSOR) && !(r[0] === "swap used" && NO_SWAP);
    }).forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-field", r[0]);
      var th = document.createElement("th"), td = document.createElement("td");
      th.textContent = r[2];
      if (r[3]) {
        td.textContent = r[1] == null ? "-" : r[0] === "free %" ? fixed(r[1], 0) + " %" : String(r[1]);
      } else {
        td.textContent = fmtBytes(r[1]);
      }
      if (r[1] != null) td.setAttribute("data-value", String(r[1]));
      tr.appendChild(th); tr.appendChild(td);
      sys.appendChild(tr);
    });
  }
  function rowAt(tMs) {
    var lo = 0, hi = N - 1;
    if (tMs <= D.x[0]) return 0;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (D.x[mid] <= tMs) lo = mid; else hi = mid - 1; }
    return lo;
  }

  function zoomTo(aMs, bMs) {
    var pad = Math.max(2000, (bMs - aMs) * 0.15);
    procChart.setScale("x", { min: xAt(Math.max(D.x[0], aMs - pad)), max: xAt(Math.min(D.x[N - 1], bMs + pad)) });
  }
  document.querySelectorAll("#events li").forEach(function (li) {
    li.tabIndex = 0;
    var go = function () {
      var t = Number(li.getAttribute("data-t")), end = li.getAttribute("data-end");
      zoomTo(t, end === "" ? t : Number(end));
      fill(rowAt(t));
    };
    li.addEventListener("click", go);
    li.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
  });
  document.getElementById("reset").addEventListener("click", function () {
    procChart.setScale("x", { min: xs[0], max: xs[N - 1] });
  });
  document.getElementById("filter").addEventListener("change", function (e) {
    var runnersOnly = e.target.value === "runners";
    D.procs.forEach(function (p, k) { procChart.setSeries(k + 1, { show: p.runner || !runnersOnly }); });
    var i = current; current = -1; fill(i);
  });
  window.addEventListener("resize", function () {
    var h = heights();
    charts.forEach(function (c, k) { c.setSize({ width: width(), height: h[k] }); });
  });

  // The page's address says what to show: #t=<ISO time> fills the table for that moment
  // and puts the cursor on it; event=<n> zooms to the n-th event of the list (from 1);
  // filter=runners shows the runners only. Joined with &: #event=3&t=2026-05-14T09:25:20Z.
  function param(name) {
    var m = new RegExp("(?:^#|&)" + name + "=([^&]+)").exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }
  function fromHash() {
    var filter = param("filter");
    if (filter === "runners" || filter === "all") {
      var sel = document.getElementById("filter");
      sel.value = filter;
      sel.dispatchEvent(new Event("change"));
    }
    var ev = param("event");
    if (ev !== null) {
      var li = document.querySelectorAll("#events li")[Number(ev) - 1];
      if (li) li.click(); else fail("event=" + ev + ": the list has " + document.querySelectorAll("#events li").length + " events");
    }
    var m = param("t");
    if (m === null) return;
    var at = Date.parse(m);
    if (isNaN(at)) { fail("#t=" + m + " is not a time such as 2026-05-14T09:25:20Z"); return; }
    var i = rowAt(at - D.start_epoch_ms);
    current = -1;
    fill(i);
    // The cursor once the charts have their size (their first draw comes after this script).
    requestAnimationFrame(function () {
      charts.forEach(function (c) {
        c.setCursor({ left: c.valToPos(xs[i], "x"), top: c.bbox.height / (window.devicePixelRatio || 1) / 2 }, false);
      });
      // A marker at that very time, whose label was left out, is named as on hover.
      showTip(procChart.valToPos(xAt(at - D.start_epoch_ms), "x"));
      // For the browser test: how far the page reaches past the window's right edge (a table
      // cut off there hides its last column).
      var page = document.documentElement;
      document.body.setAttribute("data-past-right-px", String(Math.max(0, page.scrollWidth - page.clientWidth)));
    });
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  if (current < 0) fill(N - 1);
  document.body.setAttribute("data-ready", "1");
})();
