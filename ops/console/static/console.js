/* Ops console: charts (vendored ECharts) and live job progress. No inline scripts (CSP), text only (no innerHTML). */
(function () {
  "use strict";

  function chartOptions(kind, table) {
    var header = table.header, rows = table.rows;
    var base = {tooltip: {trigger: "axis", renderMode: "richText"}, grid: {left: 48, right: 16, top: 48, bottom: 32},
                legend: {top: 4, type: "scroll"}};
    if (kind === "daily") {
      var days = rows.filter(function (r) { return r[0] !== "合计"; });
      base.title = {text: "每日对话与转人工", left: "center", top: 24, textStyle: {fontSize: 12}};
      base.xAxis = {type: "category", data: days.map(function (r) { return r[0].slice(5); })};
      base.yAxis = {type: "value", minInterval: 1};
      base.series = [1, 5, 6, 8].map(function (i) {
        return {name: header[i], type: "line", data: days.map(function (r) { return r[i]; })};
      });
      return base;
    }
    if (kind === "intent_days") {
      base.title = {text: "热门意图趋势", left: "center", top: 24, textStyle: {fontSize: 12}};
      base.xAxis = {type: "category", data: header.slice(1).map(function (d) { return d.slice(5); })};
      base.yAxis = {type: "value", minInterval: 1};
      base.series = rows.slice(0, 6).map(function (r) { return {name: r[0], type: "line", data: r.slice(1)}; });
      return base;
    }
    if (kind === "interceptions") {
      var dayCols = header.slice(2, header.length - 1);
      base.title = {text: "合规拦截（按规则、按天）", left: "center", top: 24, textStyle: {fontSize: 12}};
      base.xAxis = {type: "category", data: dayCols.map(function (d) { return d.slice(5); })};
      base.yAxis = {type: "value", minInterval: 1};
      base.series = rows.map(function (r) {
        return {name: String(r[1]), type: "bar", stack: "rules", data: r.slice(2, r.length - 1)};
      });
      return base;
    }
    var title = kind === "risk" ? "风险事件" : "转人工原因";
    return {title: {text: title, left: "center", textStyle: {fontSize: 12}},
            tooltip: {trigger: "item", renderMode: "richText"},
            series: [{type: "pie", radius: ["30%", "60%"], top: 24,
                      data: rows.map(function (r) { return {name: String(r[0]), value: r[1]}; })}]};
  }

  function drawCharts() {
    var boxes = document.querySelectorAll(".chart[data-chart]");
    if (!boxes.length || typeof echarts === "undefined") { return; }
    fetch("/dashboard/data.json" + window.location.search, {headers: {Accept: "application/json"},
                                                          credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.tables) { return; }
        boxes.forEach(function (box) {
          var kind = box.getAttribute("data-chart");
          var table = data.tables[kind];
          if (!table || !table.rows.length) { box.textContent = "（没有数据）"; box.classList.add("empty"); return; }
          var chart = echarts.init(box, null, {renderer: "canvas"});
          chart.setOption(chartOptions(kind, table));
          window.addEventListener("resize", function () { chart.resize(); });
        });
        document.body.setAttribute("data-charts", "ready");
      });
  }

  function pollJob() {
    var log = document.getElementById("job-log");
    if (!log) { return; }
    var id = log.getAttribute("data-job");
    var wasRunning = log.getAttribute("data-state") === "running";
    function tick() {
      fetch("/jobs/" + id + ".json", {headers: {Accept: "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (job) {
          log.textContent = "任务 #" + job.id + " " + job.kind + "（" + job.by + "）：" + job.state_label + "\n" +
                            (job.output || "");
          log.setAttribute("data-state", job.state);
          log.scrollTop = log.scrollHeight;
          if (job.state === "running") { window.setTimeout(tick, 1000); }
          else if (wasRunning) { window.location.replace("/models?done=" + job.id); }
        });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(); pollJob(); });
}());
