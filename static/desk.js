// Live inbox glue. Channel layers may drop messages, so every reconnect
// re-fetches the list instead of trusting that nothing was missed.
(function () {
  let opened = 0;
  document.addEventListener("htmx:wsOpen", function () {
    opened += 1;
    const dot = document.getElementById("live-status");
    if (dot) { dot.classList.remove("offline"); dot.textContent = "live"; }
    if (opened > 1) { document.body.dispatchEvent(new Event("desk:resync")); }
  });
  document.addEventListener("htmx:wsClose", function () {
    const dot = document.getElementById("live-status");
    if (dot) { dot.classList.add("offline"); dot.textContent = "reconnecting…"; }
  });
})();
