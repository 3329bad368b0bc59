// The alert page follows the alert live: when it changes, the timeline and facts are read again.
"use strict";

(function () {
  const head = document.querySelector(".alert-head");
  if (!head) return;
  const alertId = Number(head.dataset.alertId);
  const keep = [".alert-head .facts", "#timeline", "#card-title + dl"];

  async function refresh() {
    const answer = await fetch(location.pathname, { credentials: "same-origin" });
    if (!answer.ok || answer.redirected) return;
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    keep.forEach(function (selector) {
      const fresh = page.querySelector(selector), old = document.querySelector(selector);
      if (fresh && old) old.replaceWith(fresh);
    });
    // The actions depend on the state; replace them only when nobody is typing into them.
    const actions = document.querySelector("section.actions");
    const freshActions = page.querySelector("section.actions");
    if (actions && freshActions && !actions.contains(document.activeElement)) actions.replaceWith(freshActions);
    window.callwatchTick();
  }

  const source = new EventSource("/events");
  source.addEventListener("changed", function (event) {
    if (JSON.parse(event.data).indexOf(alertId) !== -1) refresh();
  });
  source.addEventListener("signed-out", function () { source.close(); location.href = "/login"; });
})();
