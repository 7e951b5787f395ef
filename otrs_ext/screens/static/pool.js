// The pool screen's live part: the page's status is replaced from the event stream (no polling, no reload).
"use strict";
(function () {
  var root = document.getElementById("pool");
  if (!root || !window.EventSource) { return; }
  function text(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }
  function show(id, visible) { var el = document.getElementById(id); if (el) { el.hidden = !visible; } }
  function render(status) {
    var t = status.ticket;
    show("enter-form", !status.in_pool);
    show("leave-form", status.in_pool);
    show("current", !!t);
    show("waiting-line", status.in_pool && !t);
    text("waiting", String(status.waiting));
    text("place", status.place === null ? "" : String(status.place));
    if (t) {
      text("ticket-number", t.number);
      text("ticket-title", t.title);
      text("ticket-customer", t.customer || "");
      text("ticket-age", Math.floor(t.age_seconds / 60) + " min");
      text("ticket-points", t.points);
      document.getElementById("ticket-zoom").href = t.zoom_url;
    }
  }
  var source = new EventSource(root.getAttribute("data-events"));
  source.addEventListener("status", function (event) { render(JSON.parse(event.data)); });
}());
