// The live board: Server-Sent Events say what changed, the board fetches its rows again.
// A new SOS or fall flashes, goes to the top, counts in the title bar and sounds an alarm
// until someone takes it (the sound can be muted).
"use strict";

(function () {
  const live = document.getElementById("board-live");
  const status = document.getElementById("live-status");
  const muteButton = document.getElementById("mute");
  const blockedNote = document.getElementById("sound-blocked");
  const baseTitle = document.title;
  let known = openUrgentIds();
  // When each new SOS/fall arrived: it stays marked for NEW_FOR_MS across refreshes.
  const arrivedAt = new Map();
  const NEW_FOR_MS = 60000;
  let refreshTimer = null;
  let refreshing = false;
  let again = false;
  let audio = null;
  let muted = localStorage.getItem("callwatch.muted") === "1";

  function openUrgentIds() {
    return new Set(Array.from(document.querySelectorAll("tr.alert-row.state-open.urgent"), (row) => row.dataset.alertId));
  }

  function summary() { return document.getElementById("summary"); }

  function syncClock() {
    const s = summary();
    if (s && s.dataset.serverNow) window.callwatchClockOffset = Number(s.dataset.serverNow) - Date.now();
  }

  function updateTitle() {
    const s = summary();
    const urgent = s ? Number(s.dataset.openUrgent) : 0;
    const unanswered = s ? Number(s.dataset.unanswered) : 0;
    const parts = [];
    if (unanswered) parts.push("(" + unanswered + ") " + live.dataset.unansweredWord);
    if (urgent) parts.push("(" + urgent + ") " + live.dataset.sosWord);
    document.title = parts.length ? parts.join(" · ") + " · " + baseTitle : baseTitle;
  }

  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const focusedId = document.activeElement && document.activeElement.closest("tr") ? document.activeElement.closest("tr").id : null;
      const answer = await fetch("/board/rows", { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (answer.redirected || answer.status === 401) { location.href = "/login?next=/"; return; }
      if (!answer.ok) return;
      live.innerHTML = await answer.text();
      const now = openUrgentIds();
      let arrived = false;
      now.forEach(function (id) {
        if (!known.has(id)) {
          arrived = true;
          arrivedAt.set(id, Date.now());
        }
      });
      arrivedAt.forEach(function (at, id) {
        const row = document.getElementById("alert-" + id);
        if (Date.now() - at > NEW_FOR_MS) arrivedAt.delete(id);
        else if (row && row.classList.contains("state-open")) row.classList.add("is-new");
      });
      known = now;
      if (focusedId && document.getElementById(focusedId)) {
        const link = document.getElementById(focusedId).querySelector("a");
        if (link) link.focus();
      }
      syncClock();
      updateTitle();
      window.callwatchTick();
      if (arrived) alarm();
    } finally {
      refreshing = false;
      if (again) { again = false; refresh(); }
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 100);
  }

  // -- sound -----------------------------------------------------------------------------
  function ensureAudio() {
    if (!audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      audio = new Context();
    }
    if (audio.state === "suspended") audio.resume().catch(function () {});
    return audio;
  }

  function beep(at, frequency) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.28);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.3);
  }

  function alarm() {
    if (muted) return;
    const context = ensureAudio();
    if (!context) return;
    if (context.state !== "running") { blockedNote.hidden = false; return; }
    const t = context.currentTime;
    [0, 0.35, 0.7].forEach(function (offset, i) { beep(t + offset, i % 2 ? 660 : 880); });
  }

  // Repeat while an SOS or fall is open and nobody took it.
  setInterval(function () { if (openUrgentIds().size) alarm(); }, 10000);

  function showMute() {
    muteButton.setAttribute("aria-pressed", String(muted));
    muteButton.textContent = muted ? muteButton.dataset.off : muteButton.dataset.on;
  }
  function toggleMute() {
    muted = !muted;
    localStorage.setItem("callwatch.muted", muted ? "1" : "0");
    showMute();
  }
  muteButton.addEventListener("click", toggleMute);
  showMute();

  // Browsers only allow sound after the user did something on the page.
  function unlock() {
    const context = ensureAudio();
    if (context && context.state === "running") blockedNote.hidden = true;
    else if (context) context.resume().then(function () { blockedNote.hidden = true; }).catch(function () {});
  }
  document.addEventListener("click", unlock);
  document.addEventListener("keydown", unlock);

  // -- keyboard ----------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const links = Array.from(document.querySelectorAll("#board-live a.row-link"));
    const at = links.indexOf(document.activeElement);
    if (event.key === "j" || event.key === "k") {
      if (!links.length) return;
      const next = event.key === "j" ? Math.min(links.length - 1, at + 1) : Math.max(0, at - 1);
      links[at === -1 ? 0 : next].focus();
      event.preventDefault();
    } else if (event.key === "m") {
      toggleMute();
    }
  });

  // -- the stream ------------------------------------------------------------------------
  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("hello", function () {
      status.textContent = status.dataset.live;
      status.className = "live-status is-live";
      scheduleRefresh(); // catch up on anything missed while disconnected
    });
    source.addEventListener("changed", scheduleRefresh);
    source.addEventListener("signed-out", function () { source.close(); location.href = "/login?next=/"; });
    source.onerror = function () {
      status.textContent = status.dataset.offline;
      status.className = "live-status is-offline";
    };
  }

  syncClock();
  updateTitle();
  connect();
  // A safety net: the board is re-read now and then even if an event was lost on the way.
  setInterval(refresh, 30000);
})();
