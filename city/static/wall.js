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
    online: ["在线", "online"], people: ["人", ""], paused: ["⏸ 已暂停翻页", "⏸ paused"],
    turning: ["每 {n} 秒翻页", "next page in {n} s"], prev: ["上一页", "Previous page"], next: ["下一页", "Next page"],
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
    today: ["最近 24 小时（每分钟）", "The last 24 hours by minute"], days: ["最近 31 天", "The last 31 days"], window: ["窗口", "Window"],
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
    var red = function (worse) { return h.red ? h.red.indexOf(key) >= 0 : worse; };  // the wall's figures say which are red
    var f = {
      longest_wait: [mins(h.longest_wait_s), mins(red(th.wait_red_s <= h.longest_wait_s) ? th.wait_red_s : th.wait_yellow_s)],
      satisfaction: [pct(h.satisfaction_today),
        pct(red(h.satisfaction_today < th.satisfaction_red) ? th.satisfaction_red : th.satisfaction_yellow)],
      overdue_cases: [h.overdue_cases, red(h.overdue_cases >= th.overdue_red) ? th.overdue_red : th.overdue_yellow],
      devices_faulty: [h.devices_faulty,
        red(h.devices_faulty >= th.devices_faulty_red) ? th.devices_faulty_red : th.devices_faulty_yellow]
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
      var subject = el("span", null, a.subject);
      subject.title = a.subject;  // all of it, where a narrow column cuts it
      li.appendChild(subject);
      ol.appendChild(li);
    });
    ol.setAttribute("data-count", String(list.length));
  }

  // ---- the wall: /city/ ----
  // 500 halls on a screen nobody scrolls: the band (every hall counted, city-wide and per district) stays;
  // the ranking is cut in pages. On the wall (1600 px wide or more, or ?turn=N) a page is as many rows as
  // the panel holds and the pages turn by themselves every N s (?turn=0: never), held while a pointer
  // moves over the ranking or is touched (30 s after the last move or touch); on a laptop a page is 50 rows, scrolled and turned by
  // hand (the buttons, ←/→, PageUp/PageDown). Each page shown says so with a `wall:page` event.
  var COLS = [
    ["card", W.card, null], ["hall", W.hall, null], ["waiting", W.waiting, num], ["longest_wait_s", W.longest, mins],
    ["served_today", W.served, num], ["satisfaction_today", W.satToday, pct], ["satisfaction_month", W.satMonth, pct],
    ["on_time_rate", W.onTime, pct], ["overdue_cases", W.overdue, num], ["followups_open", W.followups, num],
    ["devices_faulty", W.faulty, num], ["nodes_offline", W.nodesOff, num]
  ];
  var HOT = { longest_wait: "longest_wait_s", satisfaction: "satisfaction_today", overdue_cases: "overdue_cases",
              devices_faulty: "devices_faulty" };  // a card's reason -> the cell it colours
  var LOW_IS_BAD = { satisfaction_today: true, satisfaction_month: true, on_time_rate: true };
  var RANK = { red: 0, yellow: 1 };
  var sortKey = "card";
  var halls = [];
  var shown = [];
  var params = new URLSearchParams(location.search);
  var turnS = params.has("turn") ? Math.max(0, Number(params.get("turn")) || 0) : (window.innerWidth >= 1600 ? 10 : 0);
  var fit = turnS > 0 || params.get("fit") === "1";  // a page is what the panel holds (no scrolling)
  var BY_HAND = 50;
  var page = 0, breaks = [0], heights = null;
  var heldUntil = 0, holdTimer = null, timer = null, etag = null;
  var HOLD_MS = 30000;
  function nameOf(id) { return boot.halls[id] ? boot.halls[id][0] : id; }
  function count(n) { return Number(n).toLocaleString(en ? "en-GB" : "zh-CN"); }

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
  function sortBy(key) { sortKey = key; page = 0; paint("hand"); schedule(); }
  function header() {  // once: paint() only moves the sorted mark (a click or a key press is never lost)
    var tr = el("tr");
    COLS.forEach(function (c) {
      var th_ = el("th", null, c[1]);
      th_.setAttribute("data-key", c[0]);
      th_.setAttribute("role", "button");
      th_.tabIndex = 0;
      th_.addEventListener("click", function () { sortBy(c[0]); });
      th_.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(c[0]); } });
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
    if (h.reasons.length) {
      var why = el("div", "why", reasons(h));
      why.title = why.textContent;  // all of it, where the cell cuts it
      name.appendChild(why);
    }
    tr.appendChild(name);
    if (!h.online) {
      var off = el("td", "offline-cell", h.offline_since ? W.offlineSince + clock(h.offline_since) : W.never);
      off.colSpan = COLS.length - 2;
      tr.appendChild(off);
      return tr;
    }
    var hot = {};
    h.reasons.forEach(function (k) { if (HOT[k]) { hot[HOT[k]] = h.red.indexOf(k) >= 0 ? "red" : "yellow"; } });
    COLS.slice(2).forEach(function (c) {
      var td = el("td", "n" + (hot[c[0]] ? " hot-" + hot[c[0]] : ""), c[2](h[c[0]]));
      td.setAttribute("data-key", c[0]);
      tr.appendChild(td);
    });
    return tr;
  }
  // Where the pages begin: fitted to the panel (a row with a card's reasons is taller), or BY_HAND rows.
  function paginate() {
    breaks = [0];
    if (!fit) {
      for (var n = BY_HAND; n < shown.length; n += BY_HAND) { breaks.push(n); }
    } else {
      var body = document.querySelector("#ranking tbody");
      if (!heights) {
        var sample = { hall: "", name: "—", card: "red", reasons: ["longest_wait"], red: ["longest_wait"], online: true };
        var tall = row(sample, 0), short = row(Object.assign({}, sample, { card: null, reasons: [] }), 0);
        body.replaceChildren(tall, short);
        heights = { tall: tall.getBoundingClientRect().height, short: short.getBoundingClientRect().height };
      }
      var room = byId("ranking-scroll").clientHeight - document.querySelector("#ranking thead").getBoundingClientRect().height;
      var used = 0;
      shown.forEach(function (h, i) {
        var hh = h.reasons.length ? heights.tall : heights.short;
        if (used + hh > room && i > breaks[breaks.length - 1]) { breaks.push(i); used = 0; }
        used += hh;
      });
    }
    page = Math.min(page, breaks.length - 1);
  }
  function showPage(by) {
    var body = document.querySelector("#ranking tbody");
    var from = breaks[page], to = page + 1 < breaks.length ? breaks[page + 1] : shown.length;
    body.replaceChildren.apply(body, shown.slice(from, to).map(function (h, k) { return row(h, from + k); }));
    var t = byId("ranking");
    t.setAttribute("data-page", String(page + 1));
    t.setAttribute("data-pages", String(breaks.length));
    byId("page-no").textContent = en ? "Page " + (page + 1) + " of " + breaks.length : "第 " + (page + 1) + "/" + breaks.length + " 页";
    if (by !== "data" && !fit) { byId("ranking-scroll").scrollTop = 0; }
    document.dispatchEvent(new CustomEvent("wall:page", { detail: { page: page + 1, pages: breaks.length, by: by } }));
  }
  function turn(step, by) {
    page = (page + step + breaks.length) % breaks.length;
    showPage(by);
    schedule();
  }
  // The next page in turnS, unless a pointer is over the ranking or it was touched lately.
  function schedule() {
    clearTimeout(timer);
    timer = null;
    var bar = byId("page-bar");
    bar.classList.remove("running");
    bar.parentNode.hidden = !turnS;
    if (!turnS || breaks.length < 2) { byId("page-state").textContent = ""; return; }
    var held = heldUntil > Date.now();
    byId("page-state").textContent = held ? W.paused : W.turning.replace("{n}", turnS);
    byId("ranking").setAttribute("data-paused", String(held));
    if (held) { return; }
    void bar.offsetWidth;  // the bar starts again from empty
    bar.style.animationDuration = turnS + "s";
    bar.classList.add("running");
    timer = setTimeout(function () { turn(1, "auto"); }, turnS * 1000);
  }
  function band(s) {
    var c = s.city;
    var city = byId("band-city");
    var one = el("span", "line"), two = el("span", "line");
    one.append(el("b", "big", count(c.halls)), el("span", null, W.halls), el("span", "mark offline", count(c.offline) + " " + W.offline),
      el("span", null, W.online + " " + count(c.halls - c.offline)));
    two.append(el("span", "mark red", count(c.red) + " " + W.red), el("span", "mark yellow", count(c.yellow) + " " + W.yellow),
      el("b", "big", count(c.waiting)), el("span", null, W.waitingNow));
    city.replaceChildren(one, two);
    ["halls", "red", "yellow", "offline", "waiting"].forEach(function (k) { city.setAttribute("data-" + k, String(c[k])); });
    var list = byId("band-districts");
    list.replaceChildren.apply(list, s.districts.map(function (d) {
      var b = el("button", "district" + (d.district === district ? " chosen" : ""));
      b.type = "button";
      b.setAttribute("data-district", d.district);
      ["halls", "red", "yellow", "offline", "waiting"].forEach(function (k) { b.setAttribute("data-" + k, String(d[k])); });
      var top = el("span", "dname");
      top.appendChild(el("span", null, d.district));
      if (d.offline) { top.appendChild(el("span", "mark offline", count(d.offline))); }  // grey: offline, as in the city's
      b.appendChild(top);
      var line = el("span", "dline");
      line.appendChild(el("span", "mark red" + (d.red ? "" : " zero"), count(d.red)));
      line.appendChild(el("span", "mark yellow" + (d.yellow ? "" : " zero"), count(d.yellow)));
      line.appendChild(el("span", "dwait", count(d.waiting) + W.people));
      b.appendChild(line);
      b.title = d.district + ": " + d.halls + " " + W.halls + ", " + d.offline + " " + W.offline;
      b.addEventListener("click", function () { choose(d.district === district ? "" : d.district); });
      return b;
    }));
  }
  function paint(by) {
    document.querySelectorAll("#ranking th").forEach(function (h) {
      h.classList.toggle("sorted", h.getAttribute("data-key") === sortKey);
    });
    shown = ordered();
    paginate();
    var t = byId("ranking");
    t.setAttribute("data-sort", sortKey);
    t.setAttribute("data-rows", String(shown.length));
    showPage(by);
  }
  function decode(d) {  // rows of values under one list of fields -> one object per hall
    return d.rows.map(function (r) {
      var h = {};
      d.fields.forEach(function (f, i) { h[f] = r[i]; });
      h.name = nameOf(h.hall);
      return h;
    });
  }
  function loadWall() {
    var q = district ? "?district=" + encodeURIComponent(district) : "";
    var asked = district;
    var headers = etag ? { "If-None-Match": etag } : {};
    return fetch("/city/data/halls" + q, { credentials: "same-origin", cache: "no-store", headers: headers }).then(function (r) {
      if (r.status === 401) { location.href = "/city/login?lang=" + boot.lang; throw new Error("signed out"); }
      if (r.status === 304) { return null; }  // nothing the wall shows has changed
      if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
      etag = r.headers.get("ETag");
      return r.json();
    }).then(function (d) {
      lastGood = new Date();
      if (d === null || asked !== district) { return; }
      halls = decode(d);
      band(d.summary);
      paint("data");
      alertItems(d.alerts, nameOf);
      delayed(d.delayed, false);
      if (!timer) { schedule(); }
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
  function choose(d) {  // a district (or "" for all), from the select or the band
    district = d;
    byId("district").value = d;
    var u = new URL(location.href);
    if (district) { u.searchParams.set("district", district); } else { u.searchParams.delete("district"); }
    history.replaceState(null, "", u);
    etag = null;
    page = 0;
    loadWall(); loadTrends();
  }
  function startWall() {
    document.body.classList.toggle("fit", fit);
    byId("title").textContent = W.title;
    byId("district-label").textContent = W.district;
    byId("h-alerts").textContent = W.alerts;
    byId("h-day").textContent = W.day;
    byId("h-month").textContent = W.month;
    byId("legend").textContent = [
      W.red + "/" + W.yellow + (en ? ":" : "："),
      W.longest + " ≥ " + mins(th.wait_red_s) + " / " + mins(th.wait_yellow_s),
      W.satToday + " < " + pct(th.satisfaction_red) + " / " + pct(th.satisfaction_yellow),
      W.overdue + " ≥ " + th.overdue_red + " / " + th.overdue_yellow,
      W.faulty + " ≥ " + th.devices_faulty_red + " / " + th.devices_faulty_yellow,
      W.offline + " → " + W.red
    ].join("  ");
    byId("legend").title = byId("legend").textContent + " " + W.sortHint;
    var sel = byId("district");
    sel.appendChild(new Option(W.all, ""));
    boot.districts.forEach(function (d) { sel.appendChild(new Option(d, d, false, d === district)); });
    sel.addEventListener("change", function () { choose(sel.value); });
    byId("page-prev").addEventListener("click", function () { turn(-1, "hand"); });
    byId("page-next").addEventListener("click", function () { turn(1, "hand"); });
    byId("page-prev").title = W.prev;
    byId("page-next").title = W.next;
    document.addEventListener("keydown", function (e) {
      if (e.target && (e.target.tagName === "SELECT" || e.target.tagName === "INPUT")) { return; }
      if (e.key === "ArrowRight" || e.key === "PageDown") { e.preventDefault(); turn(1, "hand"); }
      if (e.key === "ArrowLeft" || e.key === "PageUp") { e.preventDefault(); turn(-1, "hand"); }
    });
    var panel = byId("ranking-panel");
    // A pointer moving over the ranking, or a touch, holds the page for HOLD_MS after the last move; a
    // mouse leaving lets it go at once. A mouse left resting over the wall does not hold it for ever.
    function hold() {
      if (heldUntil - Date.now() > HOLD_MS - 1000) { return; }  // held already (a move every few ms)
      heldUntil = Date.now() + HOLD_MS;
      schedule();
      clearTimeout(holdTimer);
      holdTimer = setTimeout(schedule, HOLD_MS + 50);
    }
    panel.addEventListener("pointermove", hold);
    panel.addEventListener("pointerdown", hold);
    panel.addEventListener("pointerleave", function (e) {
      if (e.pointerType === "mouse") { heldUntil = 0; clearTimeout(holdTimer); schedule(); }
    });
    window.addEventListener("resize", function () { heights = null; if (halls.length) { paint("data"); } });
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
