// callwatch console, every page: confirmation dialogs, ticking wait times, wall-screen text size.
"use strict";

(function () {
  // Forms marked data-confirm ask first, in a keyboard-usable <dialog>.
  function confirmFirst(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm || form.dataset.confirmed === "1") return;
    event.preventDefault();
    const dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-message").textContent = form.dataset.confirm;
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (dialog.returnValue === "confirm") {
        form.dataset.confirmed = "1";
        form.requestSubmit();
      }
    });
    dialog.showModal();
    document.getElementById("confirm-yes").focus();
  }
  document.addEventListener("submit", confirmFirst, true);

  // How long each alert has waited, ticking every second (corrected for the server's clock).
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function duration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  window.callwatchClockOffset = 0;
  function tick() {
    const now = Date.now() + window.callwatchClockOffset;
    document.querySelectorAll(".ticking[data-since]").forEach(function (el) {
      const since = Number(el.dataset.since);
      const until = el.dataset.until ? Number(el.dataset.until) : now;
      el.textContent = duration(until - since);
    });
    // An ETA counting down, then how late it is (red).
    document.querySelectorAll(".countdown[data-to]").forEach(function (el) {
      const left = Number(el.dataset.to) - now;
      el.textContent = left >= 0 ? "−" + duration(left) : "+" + duration(-left);
      el.classList.toggle("late", left < 0);
    });
  }
  window.callwatchTick = tick;
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  // Wall screen: bigger text, remembered per browser.
  if (localStorage.getItem("callwatch.wall") === "1") document.documentElement.classList.add("wall");
  document.addEventListener("DOMContentLoaded", function () {
    const wall = document.getElementById("wall");
    if (!wall) return;
    wall.setAttribute("aria-pressed", String(document.documentElement.classList.contains("wall")));
    wall.addEventListener("click", function () {
      const on = document.documentElement.classList.toggle("wall");
      localStorage.setItem("callwatch.wall", on ? "1" : "0");
      wall.setAttribute("aria-pressed", String(on));
    });
  });
})();
