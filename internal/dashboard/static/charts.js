// Poise dashboard charts: draws each element with a data-chart attribute
// with uPlot. The server puts the figures (cents, Unix seconds) in the
// attribute; this file only draws them. Amounts are shown as dollars and
// dates in the marketplace's zone that the figures name.
(function () {
  "use strict";
  var colours = ["#2458c6", "#1b7a3d", "#c77700", "#8a3ffc"];

  function dollars(cents) {
    if (cents == null) return "";
    var sign = cents < 0 ? "-" : "";
    var c = Math.abs(Math.round(cents));
    var whole = Math.floor(c / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = (c % 100).toString();
    return sign + "$" + whole + "." + (frac.length < 2 ? "0" + frac : frac);
  }

  function shortDollars(cents) {
    var v = Math.abs(cents) / 100, sign = cents < 0 ? "-" : "";
    if (v >= 1e6) return sign + "$" + (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + "M";
    if (v >= 1e3) return sign + "$" + (v / 1e3).toFixed(v >= 1e4 ? 0 : 1) + "k";
    return sign + "$" + v.toFixed(v >= 100 ? 0 : 2);
  }

  function size(el) {
    var w = el.clientWidth || 600;
    return { width: w, height: Math.max(180, Math.min(320, Math.round(w * 0.45))) };
  }

  function draw(el) {
    var c = JSON.parse(el.getAttribute("data-chart"));
    var bars = c.kind === "bars";
    var series = [{ label: "Day", value: function (u, ts) {
      return ts == null ? "" : uPlot.fmtDate("{YYYY}-{MM}-{DD}")(uPlot.tzDate(new Date(ts * 1e3), c.zone));
    } }];
    var data = [c.times];
    c.series.forEach(function (s, i) {
      var colour = colours[i % colours.length];
      var one = { label: s.label, stroke: colour, width: 2, value: function (u, v) { return dollars(v); } };
      if (bars) {
        one.fill = colour + "cc";
        one.paths = uPlot.paths.bars({ size: [0.8 / c.series.length, 60], align: i === 0 ? -1 : 1 });
        one.points = { show: false };
      }
      series.push(one);
      data.push(s.values);
    });
    var dim = size(el);
    var u = new uPlot({
      width: dim.width, height: dim.height,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), c.zone); },
      scales: { x: { time: true }, y: { range: function (u, min, max) {
        var lo = Math.min(0, min), hi = Math.max(max, 100);
        return [lo, hi + (hi - lo) * 0.08];
      } } },
      series: series,
      axes: [
        { space: 60 },
        { label: "USD", size: 70, values: function (u, vals) { return vals.map(shortDollars); } }
      ]
    }, data, el);
    var pending = 0;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { u.setSize(size(el)); }, 100);
    });
  }

  function start() {
    var all = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < all.length; i++) draw(all[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
