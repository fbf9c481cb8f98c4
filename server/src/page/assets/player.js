// Liner Notes review page: the version player (song page) and the album player (tracklist).
// Plain JavaScript, no build step. The <audio> elements survive live refreshes (data-keep);
// everything else is looked up again each time it is used.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const fmt = (s) => {
    s = Math.max(0, s || 0);
    const m = Math.floor(s / 60);
    const rest = (s - m * 60).toFixed(3).padStart(6, "0");
    return m + ":" + rest;
  };
  const say = (text) => { const l = $("live"); if (l) l.textContent = text; };

  // ---- the version player: A, optionally B, one of them audible ----
  let active = "A";
  const deck = (which) => $("audio-" + which);
  const playing = () => deck(active);
  const lengthOf = () => { const w = $("wave"); return w ? parseFloat(w.dataset.seconds) : 0; };

  // Loudness matching: the louder deck is turned down by the difference (never up: a gain
  // above 1 would clip), from their integrated LUFS.
  function matchGains() {
    const a = deck("A"), b = deck("B");
    if (!a) return;
    a.volume = 1; if (b) b.volume = 1;
    const box = $("match");
    if (!b || !box || !box.checked) return;
    const la = parseFloat(a.dataset.lufs), lb = parseFloat(b.dataset.lufs);
    if (!isFinite(la) || !isFinite(lb)) return;
    const down = (d) => Math.min(1, Math.pow(10, -Math.abs(d) / 20));
    if (la > lb) a.volume = down(la - lb); else b.volume = down(lb - la);
  }

  function show() {
    const a = playing();
    if (!a) return;
    const t = a.currentTime || 0, len = lengthOf();
    const clock = $("clock");
    if (clock) clock.textContent = fmt(t) + " / " + fmt(len);
    const head = $("playhead");
    if (head && len > 0) head.setAttribute("x", String(Math.min(1000, (t / len) * 1000)));
    const play = $("play");
    if (play) play.textContent = a.paused ? "Play" : "Pause";
  }

  function toggle() {
    const a = playing();
    if (!a) return;
    if (a.paused) { matchGains(); a.play().catch((e) => say("Cannot play: " + e.message)); } else { a.pause(); }
  }

  function seek(t) {
    const a = playing();
    if (!a) return;
    a.currentTime = Math.max(0, Math.min(lengthOf(), t));
    show();
  }

  // A/B: the other deck takes over at the same position, playing if this one was.
  function switchDeck() {
    const from = playing(), to = deck(active === "A" ? "B" : "A");
    if (!from || !to) return;
    const was = !from.paused, t = from.currentTime;
    from.pause();
    to.currentTime = t;
    active = active === "A" ? "B" : "A";
    matchGains();
    if (was) to.play().catch(() => {});
    const now = $("now-playing");
    if (now) now.textContent = "Playing " + active + ": " + to.dataset.label;
    const sw = $("switch");
    if (sw) sw.textContent = "Switch to " + (active === "A" ? "B (" + deck("B").dataset.label : "A (" + deck("A").dataset.label) + ")";
    document.body.dataset.deck = active;
    say("Playing " + active + " at " + fmt(t));
    show();
  }

  // Clicking the waveform places the comment (a drag makes a range); a marker seeks.
  let dragFrom = null;
  function waveTime(e) {
    const w = $("wave");
    const box = w.getBoundingClientRect();
    return Math.max(0, Math.min(1, (e.clientX - box.left) / box.width)) * lengthOf();
  }
  function place(from, to) {
    const at = $("comment-at"), until = $("comment-until"), sel = $("selection");
    if (at) at.value = fmt(Math.min(from, to));
    if (until) until.value = Math.abs(to - from) > 0.25 ? fmt(Math.max(from, to)) : "";
    if (sel) {
      const len = lengthOf() || 1;
      const lo = Math.min(from, to), hi = Math.max(from, to);
      sel.setAttribute("x", String((lo / len) * 1000));
      sel.setAttribute("width", String(Math.max(0, ((hi - lo) / len) * 1000)));
    }
  }
  document.addEventListener("pointerdown", (e) => {
    const marker = e.target.closest && e.target.closest("#wave .marker");
    if (marker) { seek(parseFloat(marker.dataset.at)); return; }
    if (e.target.closest && e.target.closest("#wave")) { dragFrom = waveTime(e); place(dragFrom, dragFrom); }
  });
  document.addEventListener("pointermove", (e) => { if (dragFrom !== null && $("wave")) place(dragFrom, waveTime(e)); });
  document.addEventListener("pointerup", (e) => {
    if (dragFrom === null) return;
    const to = $("wave") ? waveTime(e) : dragFrom;
    place(dragFrom, to);
    seek(Math.min(dragFrom, to));
    dragFrom = null;
    const text = $("comment-text");
    if (text) text.focus();
  });

  document.addEventListener("click", (e) => {
    const id = e.target.id;
    if (id === "play") toggle();
    else if (id === "back5") seek((playing() ? playing().currentTime : 0) - 5);
    else if (id === "fwd5") seek((playing() ? playing().currentTime : 0) + 5);
    else if (id === "switch") switchDeck();
    else if (id === "album-play") album.play();
    else if (id === "album-stop") album.stop();
  });
  // A link to a place in a version (`&t=`, e.g. from a done): the player starts there.
  (() => {
    const p = $("player"), a = deck("A");
    if (!p || !a || !p.dataset.start) return;
    const go = () => { a.currentTime = parseFloat(p.dataset.start); show(); };
    if (a.readyState >= 1) go(); else a.addEventListener("loadedmetadata", go, { once: true });
  })();

  document.addEventListener("change", (e) => { if (e.target.id === "match") matchGains(); });
  document.addEventListener("timeupdate", (e) => { if (e.target === playing()) show(); }, true);
  document.addEventListener("play", (e) => { if (e.target === playing()) show(); }, true);
  document.addEventListener("pause", (e) => { if (e.target === playing()) show(); }, true);
  document.addEventListener("liner:refreshed", () => { matchGains(); show(); });

  // The player's keys: space plays, left/right move 5 s, v switches A/B. Not while typing,
  // and not on a focused button (space presses it).
  document.addEventListener("keydown", (e) => {
    if (!$("player") || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t.matches && t.matches("input, textarea, select, button, a")) return;
    if (e.key === " ") { e.preventDefault(); toggle(); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); seek((playing().currentTime || 0) - 5); }
    else if (e.key === "ArrowRight") { e.preventDefault(); seek((playing().currentTime || 0) + 5); }
    else if (e.key === "v") { e.preventDefault(); switchDeck(); }
  });

  // The comment form: sent without leaving the page when the script runs.
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!form.matches("form.comment")) return;
    e.preventDefault();
    const r = await fetch(form.action, {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (r.ok) {
      const text = $("comment-text");
      if (text) text.value = "";
      say(form.dataset.done || "Comment recorded at " + $("comment-at").value);
    } else {
      let message = "Not recorded (" + r.status + ")";
      try { message = (await r.json()).error.message; } catch (_) { /* keep the status */ }
      say(message);
    }
  });

  // ---- the album: gapless, on one AudioContext clock ----
  const album = {
    ctx: null,
    sources: [],
    // What was scheduled: [{ song, start, duration }] in AudioContext seconds; each start is
    // the previous start plus its duration.
    schedule: [],
    stopped: true,
    async play() {
      this.stop();
      const tracks = Array.from(document.querySelectorAll("#album li.album-track[data-src]"));
      if (!tracks.length) return;
      this.ctx = new AudioContext();
      this.stopped = false;
      $("album-stop").disabled = false;
      const decode = async (li) => {
        const r = await fetch(li.dataset.src, { credentials: "same-origin" });
        if (!r.ok) throw new Error(li.dataset.song + ": " + r.status);
        return this.ctx.decodeAudioData(await r.arrayBuffer());
      };
      // Decode one ahead: the next song is ready long before the current one ends.
      let next = decode(tracks[0]);
      let at = this.ctx.currentTime + 0.2;
      for (let i = 0; i < tracks.length && !this.stopped; i++) {
        let buffer;
        try { buffer = await next; } catch (err) { say("Cannot play " + err.message); this.stop(); return; }
        if (this.stopped) return;
        if (i + 1 < tracks.length) next = decode(tracks[i + 1]);
        const src = this.ctx.createBufferSource();
        src.buffer = buffer;
        src.connect(this.ctx.destination);
        src.start(at);
        this.sources.push(src);
        this.schedule.push({ song: tracks[i].dataset.song, start: at, duration: buffer.duration });
        const song = tracks[i].dataset.song, startAt = at;
        const wait = Math.max(0, (startAt - this.ctx.currentTime) * 1000);
        setTimeout(() => { if (!this.stopped) { const n = $("album-now"); if (n) n.textContent = "Now: " + song; } }, wait);
        at += buffer.duration;
        document.getElementById("album").dataset.scheduled = String(this.schedule.length);
        // Wait until the current song is half over before deciding the one after the next.
        const until = (at - buffer.duration / 2 - this.ctx.currentTime) * 1000;
        if (i + 2 < tracks.length && until > 0) await new Promise((ok) => setTimeout(ok, until));
      }
    },
    stop() {
      this.stopped = true;
      this.sources.forEach((s) => { try { s.stop(); } catch (_) { /* not started */ } });
      this.sources = [];
      this.schedule = [];
      if (this.ctx) { this.ctx.close(); this.ctx = null; }
      const s = $("album-stop"); if (s) s.disabled = true;
      const n = $("album-now"); if (n) n.textContent = "";
    },
  };
  window.linerAlbum = album;
  show();
  matchGains();
})();
