// millrace serve: live pages without a framework. The server pushes each
// journal line as a server-sent event; the page then fetches itself again
// and swaps in its fresh <main>, keeping the <details> the reader opened.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!window.EventSource || !document.getElementById("main")) return;
  var busy = false;
  var again = false;

  function openDetails() {
    var open = [];
    document.querySelectorAll("main details[id]").forEach(function (d) {
      if (d.open) open.push(d.id);
    });
    return open;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var open = openDetails();
    fetch(location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) return;
        main.replaceWith(document.adoptNode(fresh));
        open.forEach(function (id) {
          var d = document.getElementById(id);
          if (d) d.open = true;
        });
        document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource("/events");
  source.addEventListener("open", function () {
    live.textContent = "live";
    live.className = "live on";
  });
  source.addEventListener("error", function () {
    live.textContent = "reconnecting";
    live.className = "live";
  });
  source.addEventListener("journal", function (event) {
    try {
      var line = JSON.parse(event.data);
      live.title = line.event_type + " at " + line.occurred_at;
    } catch (e) { /* a line the page need not understand */ }
    refresh();
  });
  source.addEventListener("refresh", refresh);
})();
