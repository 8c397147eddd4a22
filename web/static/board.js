// The hall's board, live: one EventSource on the board's stream redraws the lists the server
// rendered (the page reloads itself every 15 s without this script).
"use strict";
(function () {
  var root = document.getElementById("board");
  if (!root || !window.EventSource) { return; }
  var lang = root.getAttribute("data-lang");
  var labels = Array.prototype.map.call(root.querySelectorAll(".services th"), function (th) { return th.textContent; });

  function cell(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    e.textContent = text;
    return e;
  }
  function render(b) {
    var calls = document.getElementById("calls");
    calls.replaceChildren.apply(calls, b.calls.map(function (c) {
      var li = document.createElement("li");
      li.append(cell("span", "num", c.number), " ", cell("span", "arrow", "→"), " ",
                cell("span", "win", c.window), " ", cell("span", "at", c.at));
      return li;
    }));
    document.getElementById("calls-card").hidden = b.calls.length === 0;
    var rows = document.getElementById("services");
    rows.replaceChildren.apply(rows, b.services.map(function (s) {
      var tr = document.createElement("tr");
      tr.className = s.open ? "open" : "closed";
      var waiting = cell("td", "", String(s.waiting)), wait = cell("td", "", s.wait);
      waiting.setAttribute("data-label", labels[1]); // large print shows each figure under its label
      wait.setAttribute("data-label", labels[2]);
      tr.append(cell("td", "", s.code + " " + s.name), waiting, wait);
      return tr;
    }));
    var asOf = document.getElementById("as-of");
    asOf.textContent = b.as_of ? asOf.getAttribute("data-template").replace("{t}", b.as_of) : "";
    // The hall's server away (or nothing known yet): the last known board stays, and says so.
    var down = document.getElementById("board-down");
    down.hidden = b.known && !b.away;
    down.textContent = down.getAttribute("data-away");
  }
  var events = new EventSource("/api/v1/board/events" + (lang === "en" ? "?lang=en" : ""));
  events.addEventListener("board", function (e) { render(JSON.parse(e.data)); });
  events.addEventListener("error", function () { // hallweb itself gone: EventSource reconnects by itself
    var down = document.getElementById("board-down");
    down.hidden = false;
    down.textContent = down.getAttribute("data-offline");
  });
}());
