// Live inbox and keyboard glue. Everything here is an accelerator: every
// action is a plain link or form that works without JavaScript.
(function () {
  "use strict";
  let opened = 0;
  let resyncTimer = null;

  function resync() {
    clearTimeout(resyncTimer);
    resyncTimer = setTimeout(function () {
      document.body.dispatchEvent(new Event("desk:resync"));
    }, 150);
  }

  // Channel layers may drop messages: every reconnect re-fetches the list.
  document.addEventListener("htmx:wsOpen", function () {
    opened += 1;
    const dot = document.getElementById("live-status");
    if (dot) { dot.classList.remove("offline"); dot.textContent = "live"; }
    if (opened > 1) { resync(); }
  });
  document.addEventListener("htmx:wsClose", function () {
    const dot = document.getElementById("live-status");
    if (dot) { dot.classList.add("offline"); dot.textContent = "reconnecting…"; }
  });
  // A filtered or later page cannot place a pushed row itself, and a gap in
  // the numbered pushes means some were dropped: ask the server.
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    const message = event.detail && event.detail.message;
    if (typeof message === "string" && message.indexOf('id="live-resync"') !== -1) {
      event.preventDefault();
      resync();
      return;
    }
    if (document.querySelector("#inbox-list[data-filtered]")) {
      event.preventDefault();
      resync();
    }
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]");
  }

  function rows() { return Array.from(document.querySelectorAll("[data-row]")); }

  function move(step) {
    const all = rows();
    if (!all.length) { return; }
    const current = all.indexOf(document.activeElement);
    const next = all[Math.max(0, Math.min(all.length - 1, current + step))] || all[0];
    next.focus();
  }

  function click(id) {
    const el = document.getElementById(id);
    if (el) { el.click(); return true; }
    return false;
  }

  function focus(selector) {
    const el = document.querySelector(selector);
    if (el) { el.focus(); if (el.select) { el.select(); } return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape") {
      if (typing(event.target)) { event.target.blur(); return; }
      if (document.getElementById("back-link")) { window.location = document.getElementById("back-link").href; }
      return;
    }
    if (typing(event.target)) { return; }
    const handled = {
      "j": function () { move(1); return true; },
      "k": function () { move(-1); return true; },
      "n": function () { return click("next-button"); },
      "/": function () { return focus("#id_q"); },
      "c": function () { return click("claim-button"); },
      "a": function () { return click("co-approve-button") || click("approve-button"); },
      "e": function () { return focus("#approve-form input[name=amount]"); },
      "r": function () { return focus("#id_reply"); },
    }[event.key];
    if (handled && handled()) { event.preventDefault(); }
  });
})();
