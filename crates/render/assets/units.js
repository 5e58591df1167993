// memtide's byte units, shared by the viewer and compare's page: the same binary units, digits
// and rounding as memtide's text report, and round binary steps for an axis of bytes.
var memtideUnits = (function () {
  "use strict";
  // toFixed rounds an exact tie away from zero (624.5 → 625); the report, the chart and top
  // round it to even (624), as Rust's formatting does, and every view must say the same.
  function fixed(v, digits) {
    // A tie only when the double is exactly one: its full decimal expansion ends in 5 0…
    var s = v.toFixed(digits + 25), rest = s.slice(s.indexOf(".") + 1 + digits);
    if (!/^50*$/.test(rest)) return v.toFixed(digits);
    var m = Math.pow(10, digits), f = Math.floor(v * m);
    return ((f % 2 === 0 ? f : f + 1) / m).toFixed(digits);
  }
  // `missing` stands where there is no figure.
  function fmtBytes(b, missing) {
    if (b == null) return missing;
    if (b < 1024) return b.toFixed(0) + " B";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var v = b, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2) + " " + units[u];
  }
  // Round steps in binary units, so that ticks read 512 MiB, 1.00 GiB, 2.00 GiB.
  var MIB = 1048576, BYTE_STEPS = [];
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].forEach(function (m) { BYTE_STEPS.push(m * MIB); });
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024].forEach(function (g) { BYTE_STEPS.push(g * 1024 * MIB); });
  // Round steps of time, in seconds, for an axis to choose from: milliseconds, then seconds,
  // minutes, hours and days, each with the steps between (2 s, 2 min) that uPlot's own list
  // leaves out, so that a short window on a narrow chart still gets several labels.
  var TIME_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400,
    14 * 86400, 28 * 86400];
  return { fixed: fixed, fmtBytes: fmtBytes, BYTE_STEPS: BYTE_STEPS, TIME_STEPS: TIME_STEPS };
})();
