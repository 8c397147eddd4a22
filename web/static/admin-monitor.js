// The console's live monitor: renders the view the server put in the page, then every view
// the event stream brings. Everything is written with textContent (names are data, never markup).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("monitor-data").textContent);
  var w = data.words;
  var view = data.view;
  var skew = 0; // server time minus this browser's time, in ms
  var conn = document.getElementById("conn");

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function row(cells, cls) {
    var tr = el("tr", null, cls);
    cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : el("td", c)); });
    return tr;
  }
  function head(names) {
    var tr = el("tr");
    names.forEach(function (n) { tr.appendChild(el("th", w[n])); });
    var thead = el("thead");
    thead.appendChild(tr);
    return thead;
  }
  function now() { return Date.now() + skew; }
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) { return h + w.hour + (m < 10 ? "0" : "") + m + w.min; }
    if (m) { return m + w.min + (s < 10 ? "0" : "") + s + w.sec; }
    return s + w.sec;
  }
  function since(iso) { return iso ? duration((now() - Date.parse(iso)) / 1000) : w.none; }
  // HH:MM in the hall's time zone (the offset of the server's `now`), whatever zone a message was stamped in
  function clock(iso) {
    if (!iso) { return w.none; }
    var m = /([+-])(\d\d):(\d\d)$/.exec(view.now);
    var offset = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    return new Date(Date.parse(iso) + offset * 60000).toISOString().slice(11, 16);
  }
  function replace(id, children) {
    var t = document.getElementById(id);
    while (t.firstChild) { t.removeChild(t.firstChild); }
    children.forEach(function (c) { t.appendChild(c); });
  }
  function ticking(iso) { var td = el("td", since(iso), "tick"); td.setAttribute("data-since", iso || ""); return td; }

  function render() {
    skew = Date.parse(view.now) - Date.now();
    document.getElementById("h-windows").textContent = w.windows;
    document.getElementById("h-queue").textContent = w.queue + "（" + w.total + " " + view.total_waiting + "）";
    document.getElementById("h-today").textContent = w.today;
    document.getElementById("h-alerts").textContent = w.alerts;
    document.getElementById("h-devices").textContent = w.devices;

    var tb = el("tbody");
    view.windows.forEach(function (x) {
      var st = el("td", w["st_" + x.status] || x.status, "st st-" + x.status);
      if (x.pause_reason) { st.textContent += "（" + x.pause_reason + "）"; }
      var r = row([x.name, st, x.staff || w.none, x.ticket || w.none, ticking(x.status === "closed" ? "" : x.since)]);
      r.id = "window-" + x.id;
      tb.appendChild(r);
    });
    replace("windows", [head(["window", "status", "staff", "ticket", "at_window"]), tb]);

    tb = el("tbody");
    view.services.forEach(function (x) {
      var longest = ticking(x.oldest_issued_at);
      if (x.alert_wait_s) { longest.setAttribute("data-limit", x.alert_wait_s); }
      var r = row([x.code + " " + x.name, x.waiting, longest, x.waiting ? duration(x.est_wait_s) : w.none, x.windows_open]);
      r.id = "service-" + x.code;
      tb.appendChild(r);
    });
    replace("services", [head(["service", "waiting", "longest", "est", "open"]), tb]);
    tick();

    var figures = [];
    var s = view.stats;
    if (s) {
      ["visitors", "tickets_issued", "served", "no_show", "avg_wait_s", "avg_service_s", "ratings", "satisfaction_rate",
       "cases_done", "on_time_rate", "overdue_cases", "followups_open", "followups_overdue"].forEach(function (k) {
        var v = s[k];
        if (k === "avg_wait_s" || k === "avg_service_s") { v = duration(v); }
        else if (k === "satisfaction_rate" || k === "on_time_rate") { v = v === null ? w.none : (v * 100).toFixed(1) + "%"; }
        var d = el("div");
        d.appendChild(el("dt", w[k]));
        var dd = el("dd", v);
        dd.id = "stat-" + k;
        d.appendChild(dd);
        figures.push(d);
      });
    }
    replace("stats", figures);

    var alerts = view.alerts.map(function (a) {
      var li = el("li", null, "alert level-" + a.level);
      li.appendChild(el("span", clock(a.at), "at"));
      li.appendChild(el("strong", (w["l_" + a.level] || a.level) + " "));
      li.appendChild(el("span", a.subject + (a.detail ? "：" + a.detail : "")));
      return li;
    });
    replace("alerts", alerts.length ? alerts : [el("li", w.no_alerts, "hint")]);

    tb = el("tbody");
    view.nodes.forEach(function (n) {
      var pres = el("td", (w["n_" + n.state] || n.state) + (n.since ? " " + w.since + " " + clock(n.since) : ""), "n-" + n.state);
      var devs = el("td");
      n.devices.forEach(function (d) {
        var span = el("span", (w["dev_" + d.name] || d.name) + " " + (w["d_" + d.state] || d.state) +
                      (d.since ? " " + w.since + " " + clock(d.since) : ""), "dev d-" + d.state);
        if (d.detail) { span.title = d.detail; }
        devs.appendChild(span);
      });
      var r = row([n.node + (n.window ? "（" + n.window + "）" : ""), w["r_" + n.role] || n.role, pres, devs]);
      r.id = "node-" + n.node;
      tb.appendChild(r);
    });
    replace("nodes", [head(["node", "role", "presence", "devices"]), tb]);
    say(true);
  }

  function say(up) {
    conn.textContent = !up ? w.down : (view.away ? w.away : w.live);
    conn.className = "conn" + (!up || view.away ? " down" : "");
  }

  // A waiting time past its service's alert line (alert_wait_s) is marked, also between two pushes.
  function mark(td) {
    var limit = Number(td.getAttribute("data-limit") || 0), iso = td.getAttribute("data-since");
    var over = Boolean(limit && iso && (now() - Date.parse(iso)) / 1000 >= limit);
    var tr = td.parentNode;
    tr.classList.toggle("over", over);
    td.classList.toggle("over", over);
    td.title = over ? w.over : "";
    if (over && !td.querySelector(".mark")) { td.appendChild(el("span", " ⚠ " + w.over, "mark")); }
    if (!over && td.querySelector(".mark")) { td.removeChild(td.querySelector(".mark")); }
  }

  function tick() {
    var cells = document.querySelectorAll("td.tick");
    for (var i = 0; i < cells.length; i++) {
      cells[i].firstChild.textContent = since(cells[i].getAttribute("data-since"));
      if (cells[i].hasAttribute("data-limit")) { mark(cells[i]); }
    }
  }

  render();
  window.setInterval(tick, 1000);
  var stream = new EventSource("/admin/api/monitor/events");
  stream.addEventListener("monitor", function (e) { view = JSON.parse(e.data); render(); });
  stream.onerror = function () { say(false); };
  stream.onopen = function () { say(true); };
})();
