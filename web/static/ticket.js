// The ticket page, live: one EventSource on the ticket's event stream re-renders the page
// the server already rendered (the page is complete without this script). Words come from
// the page itself (#words, rendered by the server in the page's language).
"use strict";
(function () {
  // The rating form: the reasons only for a bad level (1-2). Without this script they are always
  // shown, their legend saying they are for a bad rating; hidden ones are disabled, so not sent.
  var rate = document.getElementById("rate");
  if (rate) {
    var reasons = document.getElementById("reasons");
    var levelChosen = function () {
      var chosen = rate.querySelector("input[name=level]:checked");
      var bad = !!chosen && Number(chosen.value) <= 2;
      reasons.hidden = !bad;
      reasons.disabled = !bad;
    };
    rate.addEventListener("change", levelChosen);
    levelChosen();
  }

  var root = document.getElementById("ticket");
  if (!root || !window.EventSource) { return; }
  var words = JSON.parse(document.getElementById("words").textContent);
  var id = root.getAttribute("data-ticket-id");
  var last = { status: root.getAttribute("data-status"), attempt: Number(root.getAttribute("data-attempt")) };
  var en = root.getAttribute("data-lang") === "en";
  var away = root.getAttribute("data-away") === "yes";
  var audio = null;

  function el(name) { return document.getElementById(name); }
  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, function (_m, k) { return String(vars[k]); });
  }
  function show(name, on) { el(name).hidden = !on; }
  function setText(name, text) { var e = el(name); if (e.textContent !== text) { e.textContent = text; } }

  // The same rule as hallbus.wording.wait: no window open, next, about N min, about H h M min.
  function waitWords(t) {
    if (t.windows_open === 0) { return words.wait_none_open; }
    var minutes = Math.ceil(Math.max(0, t.est_wait_s) / 60);
    if (minutes <= 0) { return words.wait_next; }
    if (minutes < 60) { return fill(words.wait_min, { m: minutes }); }
    return fill(words.wait_hm, { h: Math.floor(minutes / 60), m: minutes % 60 });
  }
  function windowWords(t) {
    if (!t.window) { return ""; }
    return en ? t.window_name_en : t.window_name;
  }

  // Browsers play sound only after a touch: the first touch unlocks a chime made here (no file).
  function unlock() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) { audio = new Ctx(); }
    // Say so in place (removing the line would move what the finger is about to tap).
    if (audio) { setText("sound", words.sound_on); }
  }
  function chime() {
    if (!audio) { return; }
    [0, 0.35].forEach(function (at, i) {
      var osc = audio.createOscillator(), gain = audio.createGain(), t0 = audio.currentTime + at;
      osc.frequency.value = i ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.5, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0);
      osc.stop(t0 + 0.32);
    });
  }
  function alertCalled() {
    // Phones allow vibration only after the person touched the page once (as for sound).
    var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (navigator.vibrate && touched) { navigator.vibrate([400, 150, 400, 150, 800]); }
    chime();
  }

  function render(t) {
    var classes = document.body.classList;
    Array.prototype.slice.call(classes).forEach(function (c) { if (c.indexOf("status-") === 0) { classes.remove(c); } });
    classes.add("status-" + t.status);
    root.setAttribute("data-status", t.status);
    setText("number", t.number);
    setText("service", en ? t.service_name_en : t.service_name);
    setText("status", words["status_" + t.status] || t.status);
    var waiting = t.status === "waiting";
    show("ahead-row", waiting);
    show("wait-row", waiting);
    setText("ahead", fill(words.ahead_n, { n: t.ahead }));
    setText("wait", waitWords(t));
    show("window-row", !!t.window);
    setText("window", windowWords(t));
    show("called", t.status === "called");
    setText("go-window", windowWords(t));
    show("again", t.attempt > 1);
    setText("again", fill(words.called_again, { n: t.attempt }));
    if (!waiting) { show("sound", false); } // the chime's hint is for a page still waiting
    var leave = el("leave");
    if (leave) { leave.hidden = !waiting; }
    // Rated elsewhere (the tablet, a terminal) while this form was open: say so instead of the form.
    if (t.status === "done" && t.rated && rate && !rate.hidden) {
      rate.hidden = true;
      show("rated-live", true);
    }
    if (t.status === "called" && (last.status !== "called" || t.attempt !== last.attempt)) { alertCalled(); }
    // Finished: the server renders the rating form (it works without this script): load it once.
    if (t.status === "done" && last.status !== "done") { window.location.reload(); return; }
    last = t;
  }
  // The stream is up but the hall's server (the controller) may be away: the state shown is then
  // the last known one, and the page says so until a fresh state comes.
  function connection(up) {
    var c = el("conn");
    c.className = up && !away ? "conn" : "conn down";
    setText("conn", !up ? words.offline : (away ? words.away : words.live));
  }

  if (last.status === "waiting") {
    show("sound", true);
    document.addEventListener("pointerdown", unlock, { once: true });
  }
  var events = new EventSource("/api/v1/tickets/" + encodeURIComponent(id) + "/events");
  events.addEventListener("ticket", function (e) {
    var t = JSON.parse(e.data);
    away = !!t.away;
    connection(true);
    render(t);
  });
  events.addEventListener("open", function () { connection(true); });
  events.addEventListener("error", function () { connection(false); }); // EventSource reconnects by itself
}());
