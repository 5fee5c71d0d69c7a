// Reviewer workspace: live queue and item pages, claims, activity pings, shortcuts.
// The socket only says "something changed" (ids); fragments are re-fetched with htmx, so
// rendering and permissions stay on the server. Delivery is at most once: after every
// (re)connect the page asks /reviews/events/?after=<last id> and refreshes if it missed
// anything, so a dropped socket never leaves a stale queue on screen.
(() => {
  "use strict";
  const body = document.body;
  const page = body.dataset.page;
  if (page !== "queue" && page !== "item") return;
  const itemId = Number(body.dataset.itemId || 0);
  let lastEventId = Number(body.dataset.lastEvent || 0);
  let socket = null;
  let attempts = 0;

  const csrf = () =>
    body.dataset.csrf || (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";

  function setLive(state, text) {
    const el = document.getElementById("live-state");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text;
  }

  // --- refreshing fragments ---------------------------------------------------------

  let refreshTimer = null;
  let refreshing = false;
  let refreshAgain = false;

  function refreshQueue() {
    // Coalesce bursts (bulk approve sends one event per item) into one re-fetch.
    if (refreshTimer) return;
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      if (refreshing) { refreshAgain = true; return; }
      const live = document.getElementById("queue-live");
      if (!live || !window.htmx) return;
      refreshing = true;
      const selected = (document.querySelector(".queue-row.selected") || {}).id;
      const checked = [...live.querySelectorAll("input[name=ids]:checked")].map((c) => c.value);
      try {
        await htmx.ajax("GET", live.dataset.queueUrl, { target: "#queue-live", swap: "outerHTML" });
      } finally {
        refreshing = false;
      }
      checked.forEach((v) => {
        const box = document.querySelector(`#queue-live input[name=ids][value="${v}"]`);
        if (box) box.checked = true;
      });
      const again = selected && document.getElementById(selected);
      select(again || null, false);
      if (refreshAgain) { refreshAgain = false; refreshQueue(); }
    }, 60);
  }

  function refreshItemPart(part, target) {
    const url = `${location.pathname}?part=${part}&${new URLSearchParams(location.search)}`;
    return htmx.ajax("GET", url, { target, swap: "outerHTML" });
  }

  function onItemEvent(msg) {
    htmx.trigger(document.body, "timeline-changed");
    if (msg.kind === "reset" || msg.status !== body.dataset.status) {
      // Someone decided (or the item moved on): show the fresh state, keep nothing stale.
      if (msg.kind !== "reset") body.dataset.status = msg.status;
      refreshItemPart("decision", "#decision-panel").then(() => {
        const panel = document.getElementById("decision-panel");
        if (panel) body.dataset.status = panel.dataset.status;
      });
      refreshItemPart("claim", "#claim-banner").then(renderPresence);
    } else if (["claimed", "released", "claim_expired"].includes(msg.kind)) {
      refreshItemPart("claim", "#claim-banner").then(renderPresence);
    }
  }

  function changed(events, reset) {
    if (page === "queue") {
      if (reset || events.length) refreshQueue();
      return;
    }
    const mine = events.filter((e) => e.item_id === itemId);
    if (reset) onItemEvent({ kind: "reset" });
    else if (mine.length) onItemEvent(mine[mine.length - 1]);
  }

  async function resync() {
    try {
      const r = await fetch(`${body.dataset.eventsUrl}?after=${lastEventId}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!r.ok) return;
      const data = await r.json();
      const missed = data.events.filter((e) => e.event_id > lastEventId);
      lastEventId = Math.max(lastEventId, data.last_event_id);
      changed(missed, data.reset);
    } catch (err) {
      /* offline: the next reconnect resyncs */
    }
  }

  // --- socket -------------------------------------------------------------------------

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${proto}//${location.host}${body.dataset.wsPath}`);
    socket.onopen = () => {
      attempts = 0;
      setLive("live", "live");
      if (itemId) socket.send(JSON.stringify({ type: "subscribe", item_id: itemId }));
      resync();
    };
    socket.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "event") {
        if (msg.event_id > lastEventId) lastEventId = msg.event_id;
        changed([msg], false);
      } else if (msg.type === "presence") {
        presence(msg);
      }
    };
    socket.onclose = (e) => {
      socket = null;
      if (e.code === 4401 || e.code === 4403) { setLive("off", "not live (signed out?)"); return; }
      setLive("reconnecting", "reconnecting…");
      if (page === "queue") document.getElementById("queue-live")?.classList.add("stale");
      const delay = Math.min(10000, 300 * 2 ** attempts++) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }
  document.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "queue-live") {
      document.getElementById("queue-live")?.classList.remove("stale");
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && socket && socket.readyState === 1) resync();
  });

  // --- presence (item page) -----------------------------------------------------------

  const here = new Set();
  function presence(msg) {
    if (msg.item_id !== itemId) return;
    if (msg.state === "leave") here.delete(msg.user);
    else here.add(msg.user);
    renderPresence();
  }
  function renderPresence() {
    const el = document.getElementById("presence");
    if (el) el.textContent = here.size ? `Also here: ${[...here].sort().join(", ")}` : "";
  }

  // --- activity pings and release (item page) -----------------------------------------

  let lastActivity = Date.now();
  if (page === "item") {
    ["keydown", "mousemove", "mousedown", "scroll", "input", "touchstart"].forEach((t) =>
      document.addEventListener(t, () => { lastActivity = Date.now(); }, { passive: true }));
    setInterval(() => {
      const held = document.getElementById("claim-banner")?.dataset.held === "me";
      if (!held || document.visibilityState !== "visible") return;
      if (Date.now() - lastActivity > 15000) return; // idle: send nothing, the gap is not counted
      fetch(body.dataset.pingUrl, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() },
      }).catch(() => {});
    }, 15000);
    window.addEventListener("pagehide", () => {
      if (document.getElementById("claim-banner")?.dataset.held !== "me") return;
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrf());
      navigator.sendBeacon(body.dataset.releaseUrl, data);
    });
  }

  // --- keyboard -----------------------------------------------------------------------

  function select(row, scroll = true) {
    document.querySelectorAll(".queue-row.selected").forEach((r) => r.classList.remove("selected"));
    if (!row) return;
    row.classList.add("selected");
    if (scroll) row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const rows = [...document.querySelectorAll(".queue-row")];
    if (!rows.length) return;
    const at = rows.findIndex((r) => r.classList.contains("selected"));
    const next = at < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, at + step));
    select(rows[next]);
  }
  function openBox(id, field) {
    const box = document.getElementById(id);
    if (!box) return;
    box.open = true;
    box.querySelector(field || "textarea")?.focus();
  }
  function toggleHelp() {
    const help = document.getElementById("shortcut-help");
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-help-toggle]")) toggleHelp();
    if (e.target.closest("[data-edit]")) document.querySelector(".draft-input")?.focus();
  });

  document.addEventListener("keydown", (e) => {
    const t = e.target;
    const typing = t.matches && t.matches("input:not([type=checkbox]), textarea, select, [contenteditable]");
    if (typing && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      t.form?.requestSubmit();
      return;
    }
    if (e.key === "Escape" && typing) { t.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key;
    let handled = true;
    if (key === "?") toggleHelp();
    else if (page === "queue") {
      if (key === "j") move(1);
      else if (key === "k") move(-1);
      else if (key === "Enter" || key === "o") {
        const row = document.querySelector(".queue-row.selected");
        if (row) location.href = row.dataset.href; else handled = false;
      } else if (key === "x") {
        const box = document.querySelector(".queue-row.selected input[name=ids]");
        if (box) box.checked = !box.checked;
      } else handled = false;
    } else {
      if (key === "a") document.getElementById("approve-form")?.requestSubmit();
      else if (key === "e") {
        const first = document.querySelector(".draft-input:not([type=hidden])");
        first?.focus();
        if (first?.select) first.select();
      } else if (key === "r") openBox("reject-box");
      else if (key === "x") openBox("escalate-box", "#escalate-reason");
      else if (key === "d") openBox("redraft-box");
      else if (key === "c") document.getElementById("comment-body")?.focus();
      else if (key === "j") location.href = body.dataset.nextUrl;
      else if (key === "k") history.back();
      else handled = false;
    }
    if (handled) e.preventDefault();
  });

  if (page === "queue") {
    document.addEventListener("click", (e) => {
      const row = e.target.closest(".queue-row");
      if (row && !e.target.closest("a, input")) select(row);
    });
  }
  connect();
})();
