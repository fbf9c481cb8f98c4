// Liner Notes review page: live updates, deciding from the keyboard, dragging the
// tracklist. Plain JavaScript, no build step; every page works without it.
(() => {
  "use strict";
  const body = document.body;
  if (!body.dataset.seq) return; // the sign-in page
  const liveRegion = document.getElementById("live");
  const say = (text) => { if (liveRegion) liveRegion.textContent = text; };
  const main = () => document.getElementById("main");

  // ---- selection (j/k) in the queue and on a song ----
  let selected = null; // data-id of the selected item
  const items = () => Array.from(main().querySelectorAll(".item[data-id]"));
  function select(el, focus) {
    items().forEach((i) => i.classList.toggle("selected", i === el));
    selected = el ? el.dataset.id : null;
    if (el && focus) { el.focus({ preventScroll: true }); el.scrollIntoView({ block: "nearest" }); }
  }
  const current = () => items().find((i) => i.dataset.id === selected) || null;

  // ---- refreshing the page in place, keeping what is being typed ----
  let refreshing = false, again = false;
  async function refresh() {
    // Something shown once (a new listening link's address) stays until the page is left:
    // a refresh would fetch the page without it.
    if (main().querySelector("[data-once]")) return "held";
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const r = await fetch(location.href, { credentials: "same-origin" });
      if (!r.ok) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.getElementById("main");
      if (!fresh) return;
      const typed = {};
      main().querySelectorAll("input[type=text][id]").forEach((i) => { if (i.value) typed[i.id] = i.value; });
      // Folds opened (a reply being written, an edit) stay open.
      const opened = Array.from(main().querySelectorAll("details[id][open]")).map((d) => d.id);
      const focusId = document.activeElement && document.activeElement.id;
      const before = items().map((i) => i.dataset.id);
      const index = before.indexOf(selected);
      // Players keep playing: an element marked data-keep stays itself across a refresh.
      const kept = new Map(Array.from(main().querySelectorAll("[data-keep][id]")).map((k) => [k.id, k]));
      main().innerHTML = fresh.innerHTML;
      main().querySelectorAll("[data-keep][id]").forEach((f) => {
        const k = kept.get(f.id);
        if (k && k.getAttribute("src") === f.getAttribute("src")) f.replaceWith(k);
      });
      document.dispatchEvent(new Event("liner:refreshed"));
      opened.forEach((id) => { const d = document.getElementById(id); if (d) d.open = true; });
      for (const [id, value] of Object.entries(typed)) {
        const i = document.getElementById(id);
        if (i) i.value = value;
      }
      if (focusId) { const f = document.getElementById(focusId); if (f) f.focus(); }
      const queueLink = doc.getElementById("nav-queue");
      const mine = document.getElementById("nav-queue");
      if (queueLink && mine) mine.textContent = queueLink.textContent;
      body.dataset.seq = doc.body.dataset.seq;
      // The selection stays on its item, or on the item that took its place.
      if (selected !== null) {
        const all = items();
        const keep = all.find((i) => i.dataset.id === selected) || all[Math.min(Math.max(index, 0), all.length - 1)] || null;
        select(keep, false);
      }
      bindTracklist();
    } finally {
      refreshing = false;
      if (again) { again = false; refresh(); }
    }
  }

  // ---- live updates ----
  if (window.EventSource) {
    const events = new EventSource("/live?after=" + encodeURIComponent(body.dataset.seq));
    events.addEventListener("change", (e) => {
      if (Number(e.data) > Number(body.dataset.seq)) { refresh().then((held) => say(held ? "The record changed: reload to see it" : "Updated just now")); }
    });
  }

  // ---- deciding without leaving the page ----
  async function post(form, submitter) {
    const data = new FormData(form, submitter);
    const r = await fetch(form.action, {
      method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!r.ok) {
      let message = "Not recorded (" + r.status + ")";
      try { message = (await r.json()).error.message; } catch (_) { /* keep the status */ }
      say(message);
      return false;
    }
    return true;
  }
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!form.matches("form.decide")) return;
    e.preventDefault();
    const submitter = e.submitter;
    if (!submitter || !submitter.value) return;
    const item = form.closest(".item");
    if (item) select(item, false);
    if (await post(form, submitter)) {
      say(submitter.textContent.trim() + ": recorded");
      await refresh();
      const next = current();
      if (next) select(next, true);
    }
  });

  // ---- the keyboard: j/k to move, a/r/c to decide ----
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    const typing = t.matches && t.matches("input, textarea, select");
    if (typing) {
      if (e.key === "Escape") { const item = t.closest(".item"); if (item) { select(item, true); } else { t.blur(); } }
      return;
    }
    const list = items();
    if (!list.length) return;
    const at = list.findIndex((i) => i.dataset.id === selected);
    if (e.key === "j" || e.key === "k") {
      const next = e.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
      select(list[at < 0 ? 0 : next], true);
      e.preventDefault();
      return;
    }
    if (e.key === "p") {
      const item = current();
      const audio = item && item.querySelector(".clip audio");
      if (audio) { e.preventDefault(); if (audio.paused) { fromMoment(audio); audio.play(); } else { audio.pause(); } }
      return;
    }
    const verdict = { a: "approved", r: "rejected", c: "changes_requested" }[e.key];
    if (!verdict) return;
    const item = current();
    const form = item && item.querySelector("form.decide");
    if (!form) return;
    const button = form.querySelector('button[value="' + verdict + '"]');
    if (button) { e.preventDefault(); form.requestSubmit(button); }
  });
  document.addEventListener("click", (e) => {
    const item = e.target.closest && e.target.closest(".item[data-id]");
    if (item) select(item, false);
  });

  // ---- clips: each plays from the moment it is about ----
  function fromMoment(audio) {
    if (audio.dataset.started) return;
    audio.dataset.started = "yes";
    const moment = parseFloat(audio.dataset.moment || "0");
    if (moment > 0 && audio.currentTime < 0.01) audio.currentTime = moment;
  }
  document.addEventListener("play", (e) => {
    if (e.target.matches && e.target.matches(".clip audio")) fromMoment(e.target);
  }, true);
  document.addEventListener("loadedmetadata", (e) => {
    if (e.target.matches && e.target.matches(".clip audio")) fromMoment(e.target);
  }, true);

  // ---- dragging the tracklist ----
  function bindTracklist() {
    const list = document.getElementById("tracklist");
    if (!list || list.dataset.bound || body.dataset.executive !== "yes") return;
    list.dataset.bound = "yes";
    let dragged = null;
    list.addEventListener("dragstart", (e) => {
      dragged = e.target.closest("li.song");
      if (!dragged) return;
      dragged.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragged.dataset.song);
    });
    list.addEventListener("dragover", (e) => {
      const over = e.target.closest("li.song");
      if (!dragged || !over || over === dragged) return;
      e.preventDefault();
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextSibling : over);
    });
    list.addEventListener("drop", async (e) => {
      e.preventDefault();
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      const order = Array.from(list.querySelectorAll("li.song")).map((li) => li.dataset.song);
      const form = document.createElement("form");
      form.action = "/tracklist/order";
      const data = new URLSearchParams({ csrf: body.dataset.csrf, order: order.join("\n") });
      const r = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } });
      say(r.ok ? "Tracklist order recorded" : "The new order was not recorded");
      await refresh();
    });
    list.addEventListener("dragend", () => { if (dragged) dragged.classList.remove("dragging"); dragged = null; });
  }
  bindTracklist();
})();
