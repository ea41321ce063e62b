// Re-fetch the server-rendered view every second; keep scroll position and open threads.
(function () {
  "use strict";
  var view = document.getElementById("view");
  var status = document.getElementById("status");
  function closedThreads() {
    var closed = {};
    view.querySelectorAll("details.thread:not([open])").forEach(function (el) {
      closed[el.dataset.channel] = true;
    });
    return closed;
  }
  function refresh() {
    fetch("/_twin/view", { cache: "no-store" })
      .then(function (resp) { return resp.text(); })
      .then(function (text) {
        var closed = closedThreads();
        var y = window.scrollY;
        view.innerHTML = text;
        view.querySelectorAll("details.thread").forEach(function (el) {
          if (closed[el.dataset.channel]) { el.removeAttribute("open"); }
        });
        window.scrollTo(0, y);
        document.body.dataset.live = "1";
        status.textContent = "live " + new Date().toLocaleTimeString();
      })
      .catch(function () { status.textContent = "disconnected"; });
  }
  refresh();
  setInterval(refresh, 1000);
})();
