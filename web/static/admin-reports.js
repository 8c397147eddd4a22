// The reports page's two charts (web/report_charts.py): daily counts over the range and satisfaction
// by window, drawn with ECharts (served by hallweb from node_modules/, web/vendor.py) from the page's
// JSON block. The SVG renderer: sharp at any size and on paper. Names are data: ECharts writes them
// as SVG text, never as markup. Each chart says how much it drew in `data-drawn` ("3x31": series x
// points) once it has finished, for the tests and for anyone looking at the page.
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || !window.echarts) { return; }
  var data = JSON.parse(block.textContent);
  var w = data.words;
  var charts = [];
  var font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';
  var colours = ["#0b3d8c", "#d97a00", "#1b7f3b"];

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "svg", locale: data.lang === "en" ? "EN" : "ZH" });
    chart.on("finished", function () {
      // a viewBox, so that CSS can scale the drawing to the paper when a printer lays the page out
      // narrower than the screen did (static/admin.css, @media print)
      var svg = el.querySelector("svg");
      if (svg) { svg.setAttribute("viewBox", "0 0 " + svg.getAttribute("width") + " " + svg.getAttribute("height")); }
      var series = chart.getOption().series;
      var points = series.length ? series[0].data.length : 0;
      el.setAttribute("data-drawn", series.length + "x" + points);
    });
    chart.setOption(option);
    charts.push(chart);
  }

  var common = {
    animation: false,
    textStyle: { fontFamily: font },
    aria: { enabled: true },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true }
  };
  function merged(extra) {
    var o = {};
    Object.keys(common).forEach(function (k) { o[k] = common[k]; });
    Object.keys(extra).forEach(function (k) { o[k] = extra[k]; });
    return o;
  }

  var daily = data.daily;
  draw("chart-daily", merged({
    color: colours,
    legend: { top: 0, data: daily.series.map(function (s) { return s.name; }) },
    xAxis: {
      type: "category", data: daily.days, boundaryGap: daily.days.length < 40,
      axisLabel: { formatter: function (d) { return daily.days.length > 1 && d.slice(0, 4) === daily.days[0].slice(0, 4) &&
        d.slice(0, 4) === daily.days[daily.days.length - 1].slice(0, 4) ? d.slice(5) : d; } }
    },
    yAxis: { type: "value", minInterval: 1 },
    series: daily.series.map(function (s) {
      return { name: s.name, type: "line", data: s.data, showSymbol: daily.days.length <= 62, symbolSize: 5,
               lineStyle: { width: 2 } };
    })
  }));

  var win = data.windows;
  var many = win.windows.length > 8;
  var bar = {
    name: w.chart_pct, type: "bar", data: win.satisfaction, barMaxWidth: 48,
    itemStyle: { color: colours[0] },
    label: { show: true, position: "top", formatter: function (p) { return p.value === null ? "" : p.value.toFixed(1) + "%"; } }
  };
  if (win.hall !== null) {
    bar.markLine = {
      symbol: "none", silent: true, lineStyle: { color: "#a61b00", type: "dashed" },
      label: { formatter: w.chart_hall + " " + win.hall.toFixed(1) + "%", position: "insideEndTop", color: "#a61b00" },
      data: [{ yAxis: win.hall }]
    };
  }
  draw("chart-windows", merged({
    xAxis: { type: "category", data: win.windows, axisLabel: { interval: 0, rotate: many ? 30 : 0, width: many ? 90 : 110,
                                                                overflow: "truncate" } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    tooltip: {
      trigger: "axis", confine: true,
      formatter: function (ps) {
        var p = ps[0], n = win.ratings[p.dataIndex];
        var rate = p.value === null || p.value === undefined ? w.chart_no_ratings : p.value.toFixed(2) + "%";
        return echarts.format.encodeHTML(p.name) + "<br>" + echarts.format.encodeHTML(w.chart_pct) + " " + rate +
          "<br>" + echarts.format.encodeHTML(w.chart_ratings) + " " + n;
      }
    },
    series: [bar]
  }));

  // Redrawn at the size of the boxes whenever they change: the window resized, and going to paper
  // and back (the print media query changes when the browser lays the page out for the printer).
  function resize() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  if (window.matchMedia) { window.matchMedia("print").addEventListener("change", resize); }
})();
