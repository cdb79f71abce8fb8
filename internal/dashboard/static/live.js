// Keeps a rollout's page live: on each of its events the page is fetched
// again and its live part swapped in. Without JavaScript the page refreshes
// itself every ten seconds instead.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.events || !window.EventSource) { return; }
  var es = new EventSource(live.dataset.events);
  var timer = null;
  function refresh() {
    timer = null;
    fetch(window.location.href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("status " + r.status); }
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var next = doc.getElementById("live");
      var cur = document.getElementById("live");
      if (next && cur) { cur.innerHTML = next.innerHTML; }
    }).catch(function () { /* the next event tries again */ });
  }
  es.onmessage = function () {
    // Events come in bursts: one fetch per burst.
    if (timer === null) { timer = window.setTimeout(refresh, 300); }
  };
  es.addEventListener("end", function () {
    es.close();
    refresh();
  });
})();
