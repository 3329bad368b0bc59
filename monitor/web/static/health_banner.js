// The degraded-service banner: asks /healthz every few seconds and lists what is wrong.
// It needs no database and no session, so it still speaks when the database is down, and
// says so when the monitor itself stops answering. On the outage page it reloads the page
// once the monitor is healthy again.
"use strict";

(function () {
  const banner = document.getElementById("health-banner");
  if (!banner) return;
  const EVERY_MS = 10000;
  const list = banner.querySelector("ul");
  const onOutagePage = !document.getElementById("board-live");

  function show(items) {
    list.replaceChildren();
    items.forEach(function (item) {
      const line = document.createElement("li");
      line.dataset.component = item.name;
      line.textContent = item.text + " ";
      if (item.detail) {
        const detail = document.createElement("small");
        detail.textContent = item.detail;
        line.appendChild(detail);
      }
      list.appendChild(line);
    });
    banner.hidden = items.length === 0;
  }

  async function check() {
    let report;
    try {
      const answer = await fetch("/healthz", { cache: "no-store", credentials: "same-origin" });
      report = await answer.json();
    } catch (error) {
      show([{ name: "monitor", text: banner.dataset.unreachable, detail: "" }]);
      return;
    }
    if (report.status === "ok" && onOutagePage) { location.reload(); return; }
    show(Object.entries(report.components || {})
      .filter(function (entry) { return !entry[1].ok; })
      .map(function (entry) {
        // one of several providers of a channel ("sms:aliyun"): named in its detail
        const text = banner.dataset[entry[0]] || (entry[0].startsWith("sms:") && banner.dataset.smsProvider) || entry[0];
        const since = entry[1].since ? " · " + new Date(entry[1].since).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
        return { name: entry[0], text: text, detail: entry[1].detail + since };
      }));
  }

  setInterval(check, EVERY_MS);
})();
