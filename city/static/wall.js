// The city wall (city/wall.py): the ranking of every hall with its cards, the live alert stream and
// the trends on /city/, one hall in depth on /city/halls/{hall}. The page's JSON block (#boot) gives
// the language, the thresholds and the districts; the figures come from /city/data/... every few
// seconds (the wall's cookie goes with them). Every text is put in with textContent: names and
// alerts are data, never markup. Each table and chart says what it drew in data-* attributes (for
// the tests and for anyone looking at the page).
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var en = boot.lang === "en";
  var th = boot.thresholds;
  // Every word of the page: [zh_CN, English].
  var WORDS = {
    title: ["城市政务服务指挥中心 · 大厅总览", "City command centre: service halls"],
    district: ["区县", "District"], all: ["全部区县", "All districts"], halls: ["个大厅", "halls"],
    red: ["红牌", "red"], yellow: ["黄牌", "yellow"], offline: ["离线", "offline"], waitingNow: ["人等候", "waiting"],
    alerts: ["实时告警", "Alerts, live"],
    day: ["今日等候与办结（每 10 分钟）", "Today: people waiting and served (every 10 min)"],
    month: ["本月每日办结与满意度", "This month: served and satisfaction by day"],
    delayed: ["数据延迟：数据库落后或无法访问，所示数据可能不是最新的。",
      "Figures are delayed: the database is behind or unreachable. What you see may be old."],
    unreachable: ["无法连接指挥中心服务器，所示数据截至 ", "The command centre's server cannot be reached; the figures shown are from "],
    never: ["从未收到数据", "never heard from"], offlineSince: ["离线 自 ", "OFFLINE since "],
    card: ["牌", "Card"], hall: ["大厅", "Hall"], waiting: ["当前等候", "Waiting now"], longest: ["最长等候", "Longest wait"],
    served: ["今日办结", "Served today"], satToday: ["今日满意度", "Satisfaction today"], satMonth: ["本月满意度", "This month"],
    onTime: ["按时办结率", "On time"], overdue: ["超期办件", "Overdue cases"], followups: ["待回访", "Open follow-ups"],
    faulty: ["故障设备", "Faulty devices"], nodesOff: ["离线终端", "Nodes offline"],
    sortHint: ["点击列名排序。", "Click a column to sort."], min: [" 分钟", " min"], back: ["← 全部大厅", "← All halls"],
    figures: ["当前", "Now"], windows: ["窗口", "Windows"], services: ["事项", "Services"],
    today: ["今日（每分钟）", "Today by minute"], days: ["最近 31 天", "The last 31 days"], window: ["窗口", "Window"],
    status: ["状态", "Status"], ticket: ["票号", "Ticket"], staff: ["工作人员", "Staff"], since: ["起始", "Since"],
    service: ["事项", "Service"], estWait: ["预计等候", "Estimated wait"], open: ["开放窗口", "Windows open"],
    lastKnown: ["离线前最后数据：", "Last known before it went silent: "], noAlerts: ["暂无告警。", "No alerts."],
    satisfaction: ["满意度", "Satisfaction"], lastSeen: ["最后收到 ", "Last heard "],
    st: { idle: ["空闲", "idle"], serving: ["办理中", "serving"], paused: ["暂停", "paused"], closed: ["关闭", "closed"],
          calling: ["叫号中", "calling"] },
    why: {
      offline: ["离线", "offline"], never_heard: ["从未收到数据", "never heard from"],
      longest_wait: ["最长等候 {v} ≥ {t}", "longest wait {v} ≥ {t}"], satisfaction: ["满意度 {v} < {t}", "satisfaction {v} < {t}"],
      overdue_cases: ["超期办件 {v} ≥ {t}", "{v} overdue cases ≥ {t}"], devices_faulty: ["故障设备 {v} ≥ {t}", "{v} faulty devices ≥ {t}"]
    }
  };
  function pick(words) {
    var out = {};
    Object.keys(words).forEach(function (k) { out[k] = Array.isArray(words[k]) ? words[k][en ? 1 : 0] : pick(words[k]); });
    return out;
  }
  var W = pick(WORDS);
  var font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';
  var district = new URLSearchParams(location.search).get("district") || "";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function byId(id) { return document.getElementById(id); }
  function mins(s) { return s === null || s === undefined ? "—" : Math.round(s / 60) + W.min; }
  function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }
  function percent(v) { return Math.round(v * 100) + "%"; }
  function num(x) { return x === null || x === undefined ? "—" : String(x); }
  function clock(iso) {
    if (!iso) { return "—"; }
    var d = new Date(iso);
    var today = new Date();
    var hm = d.toLocaleTimeString(en ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === today.toDateString()) { return hm; }
    return d.toLocaleDateString(en ? "en-GB" : "zh-CN", { month: "2-digit", day: "2-digit" }) + " " + hm;
  }
  function tick() { byId("clock").textContent = new Date().toLocaleString(en ? "en-GB" : "zh-CN"); }
  function reason(h, key) {
    var f = {
      longest_wait: [mins(h.longest_wait_s), mins(th.wait_red_s <= h.longest_wait_s ? th.wait_red_s : th.wait_yellow_s)],
      satisfaction: [pct(h.satisfaction_today), pct(h.satisfaction_today < th.satisfaction_red ? th.satisfaction_red : th.satisfaction_yellow)],
      overdue_cases: [h.overdue_cases, h.overdue_cases >= th.overdue_red ? th.overdue_red : th.overdue_yellow],
      devices_faulty: [h.devices_faulty, h.devices_faulty >= th.devices_faulty_red ? th.devices_faulty_red : th.devices_faulty_yellow]
    }[key] || ["", ""];
    var text = (W.why[key] || key).replace("{v}", f[0]).replace("{t}", f[1]);
    if (key === "offline") { text = h.offline_since ? W.offlineSince + clock(h.offline_since) : W.never; }
    return text;
  }
  function reasons(h) { return h.reasons.map(function (k) { return reason(h, k); }).join(en ? "; " : "；"); }
  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.status === 401) { location.href = "/city/login?lang=" + boot.lang; throw new Error("signed out"); }
      if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
      return r.json();
    });
  }
  var lastGood = null;
  function delayed(on, unreachable) {
    var b = byId("delayed");
    b.hidden = !on && !unreachable;
    b.textContent = unreachable ? W.unreachable + (lastGood ? lastGood.toLocaleTimeString() : "—") : W.delayed;
  }
  function failed(e) {  // 503: the server is there, its database is not (the figures shown are delayed)
    if (e.message !== "signed out") { delayed(e.status === 503, e.status !== 503); }
  }
  function chart(id) {
    var node = byId(id);
    return node ? echarts.init(node, "dark", { renderer: "canvas", locale: en ? "EN" : "ZH" }) : null;
  }
  var common = {
    animation: false, backgroundColor: "transparent", textStyle: { fontFamily: font },
    grid: { left: 8, right: 12, top: 40, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true }, legend: { top: 0, textStyle: { fontSize: 15 } }
  };
  function draw(c, node, option, points) {
    if (!c) { return; }
    c.setOption(Object.assign({}, common, option), true);
    node.setAttribute("data-drawn", option.series.length + "x" + points);
  }
  // Two curves over one axis: people (a line with its area, or bars by day) on the left, the other on the right
  // (by day: satisfaction from 80 % to 100 %).
  function pair(c, id, x, byDay, left, right) {
    draw(c, byId(id), {
      xAxis: { type: "category", data: x },
      yAxis: [{ type: "value" }, byDay ? { type: "value", min: 0.8, max: 1, axisLabel: { formatter: percent } } : { type: "value" }],
      series: [byDay ? { name: left[0], type: "bar", data: left[1] }
                     : { name: left[0], type: "line", data: left[1], showSymbol: false, areaStyle: { opacity: 0.2 } },
               { name: right[0], type: "line", yAxisIndex: 1, data: right[1], showSymbol: byDay }]
    }, x.length);
  }
  window.addEventListener("resize", function () {
    document.querySelectorAll(".plot").forEach(function (n) { var c = echarts.getInstanceByDom(n); if (c) { c.resize(); } });
  });

  function alertItems(list, named) {
    var ol = byId("alerts");
    ol.replaceChildren();
    if (!list.length) { ol.appendChild(el("li", "quiet", W.noAlerts)); }
    list.forEach(function (a) {
      var li = el("li", "alert level-" + a.level);
      li.setAttribute("data-hall", a.hall || "");
      li.appendChild(el("time", null, clock(a.ts)));
      if (named) { li.appendChild(el("b", null, named(a.hall))); }
      li.appendChild(el("span", null, a.subject));
      ol.appendChild(li);
    });
    ol.setAttribute("data-count", String(list.length));
  }

  // ---- the wall: /city/ ----
  var COLS = [
    ["card", W.card, null], ["hall", W.hall, null], ["waiting", W.waiting, num], ["longest_wait_s", W.longest, mins],
    ["served_today", W.served, num], ["satisfaction_today", W.satToday, pct], ["satisfaction_month", W.satMonth, pct],
    ["on_time_rate", W.onTime, pct], ["overdue_cases", W.overdue, num], ["followups_open", W.followups, num],
    ["devices_faulty", W.faulty, num], ["nodes_offline", W.nodesOff, num]
  ];
  var LOW_IS_BAD = { satisfaction_today: true, satisfaction_month: true, on_time_rate: true };
  var RANK = { red: 0, yellow: 1 };
  var sortKey = "card";
  var halls = [];
  var names = {};

  function ordered() {
    var list = halls.slice();
    if (sortKey === "card") { return list; }  // the server's order: red, yellow, then by people waiting
    if (sortKey === "hall") { return list.sort(function (a, b) { return a.name.localeCompare(b.name, "zh-CN"); }); }
    var low = LOW_IS_BAD[sortKey];
    return list.sort(function (a, b) {
      var x = a[sortKey], y = b[sortKey];
      if (x === null && y === null) { return (RANK[a.card] ?? 2) - (RANK[b.card] ?? 2); }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return low ? x - y : y - x;  // the worst first
    });
  }
  function header() {  // once: paint() only moves the sorted mark (a click or a key press is never lost)
    var tr = el("tr");
    COLS.forEach(function (c) {
      var th_ = el("th", null, c[1]);
      th_.setAttribute("data-key", c[0]);
      th_.setAttribute("role", "button");
      th_.tabIndex = 0;
      th_.addEventListener("click", function () { sortKey = c[0]; paint(); });
      th_.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortKey = c[0]; paint(); } });
      tr.appendChild(th_);
    });
    document.querySelector("#ranking thead").replaceChildren(tr);
  }
  function row(h, i) {
    var tr = el("tr", "card-" + (h.card || "none") + (h.online ? "" : " offline"));
    tr.setAttribute("data-hall", h.hall);
    tr.setAttribute("data-card", h.card || "");
    var card = el("td", "card");
    card.appendChild(el("span", "mark " + (h.card || "none"), h.card ? (h.card === "red" ? W.red : W.yellow) : String(i + 1)));
    tr.appendChild(card);
    var name = el("td", "name");
    var a = el("a", null, h.name);
    a.href = "/city/halls/" + encodeURIComponent(h.hall) + "?lang=" + boot.lang;
    name.appendChild(a);
    if (h.reasons.length) { name.appendChild(el("div", "why", reasons(h))); }
    tr.appendChild(name);
    if (!h.online) {
      var off = el("td", "offline-cell", h.offline_since ? W.offlineSince + clock(h.offline_since) : W.never);
      off.colSpan = COLS.length - 2;
      tr.appendChild(off);
      return tr;
    }
    COLS.slice(2).forEach(function (c) {
      var td = el("td", "n", c[2](h[c[0]]));
      td.setAttribute("data-key", c[0]);
      tr.appendChild(td);
    });
    return tr;
  }
  function paint() {
    document.querySelectorAll("#ranking th").forEach(function (h) {
      h.classList.toggle("sorted", h.getAttribute("data-key") === sortKey);
    });
    var body = document.querySelector("#ranking tbody");
    var list = ordered();
    body.replaceChildren.apply(body, list.map(row));
    var t = byId("ranking");
    t.setAttribute("data-sort", sortKey);
    t.setAttribute("data-rows", String(list.length));
    var red = halls.filter(function (h) { return h.card === "red"; }).length;
    var yellow = halls.filter(function (h) { return h.card === "yellow"; }).length;
    var offline = halls.filter(function (h) { return !h.online; }).length;
    var waiting = halls.reduce(function (s, h) { return s + (h.waiting || 0); }, 0);
    var totals = byId("totals");
    totals.replaceChildren(el("span", null, halls.length + " " + W.halls), el("span", "mark red", red + " " + W.red),
      el("span", "mark yellow", yellow + " " + W.yellow), el("span", "mark offline", offline + " " + W.offline),
      el("span", null, waiting + " " + W.waitingNow));
  }
  function loadWall() {
    var q = district ? "?district=" + encodeURIComponent(district) : "";
    return fetchJson("/city/data/halls" + q).then(function (d) {
      lastGood = new Date();
      halls = d.halls;
      d.halls.forEach(function (h) { names[h.hall] = h.name; });
      paint();
      alertItems(d.alerts, function (id) { return names[id] || id; });
      delayed(d.delayed, false);
    }).catch(failed);
  }
  var dayChart, monthChart;
  function loadTrends() {
    var q = district ? "?district=" + encodeURIComponent(district) : "";
    return fetchJson("/city/data/trends" + q).then(function (d) {
      pair(dayChart, "chart-day", d.day.map(function (p) { return clock(p.t); }), false,
        [W.waiting, d.day.map(function (p) { return p.waiting; })], [W.served, d.day.map(function (p) { return p.served; })]);
      pair(monthChart, "chart-month", d.month.map(function (p) { return p.day.slice(5); }), true,
        [W.served, d.month.map(function (p) { return p.served; })],
        [W.satisfaction, d.month.map(function (p) { return p.satisfaction; })]);
    }).catch(function () { /* the banner of loadWall says so */ });
  }
  function startWall() {
    byId("title").textContent = W.title;
    byId("district-label").textContent = W.district;
    byId("h-alerts").textContent = W.alerts;
    byId("h-day").textContent = W.day;
    byId("h-month").textContent = W.month;
    byId("legend").textContent = W.sortHint + " " + [
      W.red + "/" + W.yellow + (en ? ":" : "："),
      W.longest + " ≥ " + mins(th.wait_red_s) + " / " + mins(th.wait_yellow_s),
      W.satToday + " < " + pct(th.satisfaction_red) + " / " + pct(th.satisfaction_yellow),
      W.overdue + " ≥ " + th.overdue_red + " / " + th.overdue_yellow,
      W.faulty + " ≥ " + th.devices_faulty_red + " / " + th.devices_faulty_yellow,
      W.offline + " → " + W.red
    ].join("  ");
    var sel = byId("district");
    sel.appendChild(new Option(W.all, ""));
    boot.districts.forEach(function (d) { sel.appendChild(new Option(d, d, false, d === district)); });
    sel.addEventListener("change", function () {
      district = sel.value;
      var u = new URL(location.href);
      if (district) { u.searchParams.set("district", district); } else { u.searchParams.delete("district"); }
      history.replaceState(null, "", u);
      loadWall(); loadTrends();
    });
    header();
    dayChart = chart("chart-day");
    monthChart = chart("chart-month");
    loadWall(); loadTrends();
    setInterval(loadWall, 3000);
    setInterval(loadTrends, 60000);
  }

  // ---- one hall: /city/halls/{hall} ----
  function table(id, heads, rows) {
    var t = byId(id);
    var tr = el("tr");
    heads.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    t.querySelector("thead").replaceChildren(tr);
    t.querySelector("tbody").replaceChildren.apply(t.querySelector("tbody"), rows.map(function (cells) {
      var r = el("tr");
      cells.forEach(function (c) { r.appendChild(el("td", null, c)); });
      return r;
    }));
    t.setAttribute("data-rows", String(rows.length));
  }
  var todayChart, daysChart;
  function loadHall() {
    return fetchJson("/city/data/halls/" + encodeURIComponent(boot.hall)).then(function (h) {
      lastGood = new Date();
      var status = byId("status");
      var mark = el("span", "mark " + (h.card || "none"), h.card ? (h.card === "red" ? W.red : W.yellow) : "✓");
      status.replaceChildren(mark, el("span", null, h.online ? W.lastSeen + clock(h.last_seen)
        : (h.offline_since ? W.offlineSince + clock(h.offline_since) : W.never)));
      status.setAttribute("data-online", String(h.online));
      byId("marks").textContent = h.reasons.length ? reasons(h) : "";
      var f = h.online ? h : (h.last_known || {});
      var dl = byId("figures");
      dl.replaceChildren();
      if (!h.online) { dl.appendChild(el("dt", "wide", W.lastKnown)); dl.appendChild(el("dd", "wide", "")); }
      COLS.slice(2).forEach(function (c) {
        var v = c[0] === "satisfaction_month" ? h.satisfaction_month : f[c[0]];
        dl.appendChild(el("dt", null, c[1]));
        dl.appendChild(el("dd", null, c[2](v === undefined ? null : v)));
      });
      table("windows", [W.window, W.status, W.ticket, W.staff, W.since], h.windows.map(function (w) {
        return [w.name || w.window, W.st[w.status] || w.status, w.ticket || "—", w.staff || "—", clock(w.since)];
      }));
      table("services", [W.service, W.waiting, W.estWait, W.open], h.services.map(function (s) {
        return [s.code + " " + s.name, num(s.waiting), mins(s.est_wait_s), num(s.windows_open)];
      }));
      alertItems(h.alerts, null);
      pair(todayChart, "chart-today", h.minutes.map(function (m) { return clock(m.minute); }), false,
        [W.waiting, h.minutes.map(function (m) { return m.waiting; })],
        [W.longest, h.minutes.map(function (m) { return m.longest_wait_s === null ? null : Math.round(m.longest_wait_s / 60); })]);
      pair(daysChart, "chart-days", h.days.map(function (d) { return d.day.slice(5); }), true,
        [W.served, h.days.map(function (d) { return d.served; })],
        [W.satisfaction, h.days.map(function (d) { return d.satisfaction; })]);
      delayed(false, false);
    }).catch(failed);
  }
  function startHall() {
    byId("back").textContent = W.back;
    ["figures", "windows", "services", "today", "days", "alerts"].forEach(function (k) {
      byId("h-" + k).textContent = k === "alerts" ? W.alerts : W[k];
    });
    todayChart = chart("chart-today");
    daysChart = chart("chart-days");
    loadHall();
    setInterval(loadHall, 5000);
  }

  tick();
  setInterval(tick, 1000);
  if (boot.hall) { startHall(); } else { startWall(); }
}());
