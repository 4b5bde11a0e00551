// Audio on every page that shows an item (workspace, review, expert queue, item page).
//
// An item payload carries its audio parts as media entries
// `{field, kind: "audio", mime, sha256, duration_ms, sample_rate, url, restricted}`. A voice
// is biometric: `url` is the served (tag-stripped) blob for people with a voice clearance,
// and null, with `restricted: "voice"`, for everyone else. This module only ever loads a
// url the payload gave (and only one under /api/v1/media/); without one it shows no player,
// only a notice that the work is done from the transcript.
//
//   renderAudio(host, media)        a player per audio part, appended to `host`
//   audioPlayer(field)              the player of `field` shown last (segments.js draws on it)
//   drawSegments(player, name, segs) read-only segments on a player's waveform
//   drawSegmentAnswers(field, answers) others' segments (one layer per answer)
//   segmentsText(answer)            an answer of segments in words
//
// The player is an <audio> element with our own controls: play/pause, seek, speed, the
// time, and a waveform drawn on a <canvas> from the audio decoded in the page (fetch the
// url, AudioContext.decodeAudioData, peaks per pixel column). No third-party code.
// Keys (not while typing in a text box, nor with a dialog open):
//   Space            play / pause
//   ← →              back / forward 1 s (Shift: 5 s)
//   [ ]              slower / faster (0.75, 1, 1.25, 1.5, 2)
// and, anywhere, also while typing: Ctrl+Space or Alt+P play / pause.
// Players are mounted on media entries as media.js mounts viewers (mounts.js).
import { answerLayer, drawOthers, el, forgetGone, mountStatic, shownWidget, tag, typing } from "./mounts.js";

const SERVED = "/api/v1/media/"; // media_views.MEDIA_PATH: the gated bytes
export const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
const BUCKETS = 2000; // peaks kept per waveform, redrawn to the canvas's width
const shown = new Map(); // field -> the player shown last
let active = null; // the player the keys act on: last used, else the first on the page

// 75.25 -> "1:15.2"
export function clock(seconds, decimals = 1) {
  const s = Math.max(Number(seconds) || 0, 0);
  const minutes = Math.floor(s / 60);
  const rest = (s - minutes * 60).toFixed(decimals).padStart(decimals ? 3 + decimals : 2, "0");
  return `${minutes}:${rest}`;
}

export function segmentsText(answer) {
  if (!Array.isArray(answer) || !answer.length) return "(no segments)";
  return answer
    .map((s) => `${s.label} ${Number(s.start).toFixed(2)}–${Number(s.end).toFixed(2)} s`)
    .join("; ");
}

function current() {
  if (active?.connected()) return active;
  return [...shown.values()].find((p) => p.connected()) ?? null;
}

let keysInstalled = false;

// The player's keys. A page's own keys (shortcuts.js, an editor's) come first: a key they
// used (defaultPrevented) is not the player's.
function installKeys() {
  if (keysInstalled) return;
  keysInstalled = true;
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || document.querySelector("dialog[open]")) return;
    const player = current();
    if (!player) return;
    // Play / pause from anywhere, a text box included (Space there types a space).
    const toggle =
      (event.ctrlKey && !event.altKey && !event.metaKey && event.code === "Space") ||
      (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyP");
    if (toggle) {
      event.preventDefault();
      player.toggle();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const target = event.target;
    if (event.key === " ") {
      // Space on a focused button presses it, as everywhere.
      if (target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement) return;
      player.toggle();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const step = event.shiftKey ? 5 : 1;
      player.seekBy(event.key === "ArrowLeft" ? -step : step);
    } else if (event.key === "[" || event.key === "]") {
      player.speedBy(event.key === "[" ? -1 : 1);
    } else {
      return;
    }
    event.preventDefault();
  });
}

// Min/max peaks of the first channel's samples (mixed down), in `buckets` columns.
export function peaks(buffer, buckets = BUCKETS) {
  const channels = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c));
  const n = buffer.length;
  const count = Math.max(Math.min(buckets, n), 1);
  const lows = new Float32Array(count);
  const highs = new Float32Array(count);
  const per = n / count;
  for (let b = 0; b < count; b++) {
    const from = Math.floor(b * per);
    const to = Math.max(Math.floor((b + 1) * per), from + 1);
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to && i < n; i++) {
      let v = 0;
      for (const data of channels) v += data[i];
      v /= channels.length;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    lows[b] = lo;
    highs[b] = hi;
  }
  return { lows, highs };
}

// Decode at the file's own rate (no resampling) when the payload says it.
function rateOf(entry) {
  const rate = Number(entry.sample_rate);
  return Number.isFinite(rate) && rate >= 8000 && rate <= 192000 ? rate : 44100;
}

// A player for one audio entry with a url. Returns {figure, audio, wave, entry, duration(),
// time(), toggle(), play(), pause(), seekBy(s), seekTo(s), speedBy(step), layer(name),
// clear(prefix), onTime(fn), onReady(fn), connected()}.
export function createPlayer(entry, { caption = "" } = {}) {
  installKeys();
  const name = entry.field || "audio";
  const figure = el("figure", "audio-player", { "data-field": entry.field ?? "", "data-sha256": entry.sha256 ?? "" });
  // performance.now() when the player was made, could play, and had its waveform drawn
  // (data-created-at, data-ready-at, data-waveform-at: bench/ui/bench_player.py reads them).
  figure.dataset.createdAt = String(performance.now());
  const audio = el("audio", "ap-audio", { preload: "auto" });
  audio.src = entry.url;
  const tools = el("div", "ap-tools", { role: "toolbar", "aria-label": `Play the ${name}` });
  const playButton = el("button", "ap-play", { type: "button", "aria-keyshortcuts": "Space" });
  const back = el("button", "ap-back", { type: "button", "aria-label": "Back 1 second", "aria-keyshortcuts": "ArrowLeft" });
  back.textContent = "−1 s";
  const ahead = el("button", "ap-ahead", { type: "button", "aria-label": "Forward 1 second", "aria-keyshortcuts": "ArrowRight" });
  ahead.textContent = "+1 s";
  const slower = el("button", "ap-slower", { type: "button", "aria-label": "Slower", "aria-keyshortcuts": "[" });
  slower.textContent = "[ slower";
  const rate = el("output", "ap-rate", { "aria-live": "polite", "aria-label": "Speed" });
  const faster = el("button", "ap-faster", { type: "button", "aria-label": "Faster", "aria-keyshortcuts": "]" });
  faster.textContent = "faster ]";
  const time = el("output", "ap-time", { "aria-label": "Time" });
  tools.append(playButton, back, ahead, slower, rate, faster, time);

  const frame = el("div", "ap-frame", {
    tabindex: "0",
    role: "group",
    "aria-roledescription": "audio waveform",
    "aria-label": `${name}${entry.duration_ms ? `, ${clock(entry.duration_ms / 1000)}` : ""}${caption ? `: ${caption}` : ""}`,
  });
  const canvas = el("canvas", "ap-wave", { "aria-hidden": "true" });
  const stage = el("div", "ap-stage");
  const head = el("div", "ap-head", { "aria-hidden": "true" });
  stage.append(canvas, head);
  frame.append(stage);
  const notes = el("figcaption", "ap-caption hint");
  figure.append(tools, frame, notes, audio);

  const layers = new Map();
  const timeListeners = [];
  const readyListeners = [];
  let wave = null; // {lows, highs}
  let speed = 1;

  const duration = () =>
    Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : (Number(entry.duration_ms) || 0) / 1000;

  function layer(layerName) {
    if (!layers.has(layerName)) {
      const node = el("div", `ap-layer ap-layer-${layerName}`);
      stage.append(node);
      stage.append(head); // the playhead stays on top
      layers.set(layerName, node);
    }
    return layers.get(layerName);
  }

  function paintTime() {
    const t = audio.currentTime || 0;
    const d = duration();
    time.textContent = `${clock(t)} / ${clock(d)}`;
    head.style.left = d ? `${Math.min((100 * t) / d, 100)}%` : "0";
    for (const fn of timeListeners) fn(t);
  }

  function paintPlay() {
    const playing = !audio.paused && !audio.ended;
    playButton.textContent = playing ? "Pause" : "Play";
    playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    figure.dataset.playing = String(playing);
  }

  function paintRate() {
    rate.textContent = `${speed}×`;
    slower.disabled = speed <= SPEEDS[0];
    faster.disabled = speed >= SPEEDS[SPEEDS.length - 1];
  }

  function draw() {
    const width = Math.max(Math.round(frame.clientWidth), 1);
    const height = Math.max(Math.round(canvas.clientHeight), 1);
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext("2d");
    if (!g) return;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const mid = height / 2;
    g.fillStyle = "#5c6370";
    g.fillRect(0, mid, width, 1);
    if (!wave) return;
    const count = wave.lows.length;
    let loudest = 0;
    for (let i = 0; i < count; i++) loudest = Math.max(loudest, -wave.lows[i], wave.highs[i]);
    const gain = loudest > 0 ? 0.95 / loudest : 1;
    g.fillStyle = "#8ab4f8";
    for (let x = 0; x < width; x++) {
      const from = Math.floor((x * count) / width);
      const to = Math.max(Math.floor(((x + 1) * count) / width), from + 1);
      let lo = 0;
      let hi = 0;
      for (let i = from; i < to && i < count; i++) {
        lo = Math.min(lo, wave.lows[i]);
        hi = Math.max(hi, wave.highs[i]);
      }
      const top = mid - hi * gain * mid;
      const bottom = mid - lo * gain * mid;
      g.fillRect(x, top, 1, Math.max(bottom - top, 1));
    }
  }

  // The waveform: the bytes fetched once more from the same (served) url, decoded here.
  async function decode() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      notes.textContent = "This browser cannot draw the waveform; the player works without it.";
      return;
    }
    try {
      const response = await fetch(entry.url, { credentials: "same-origin", cache: "force-cache" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const bytes = await response.arrayBuffer();
      // An OfflineAudioContext decodes without an audio output (nor its autoplay rules).
      const context = window.OfflineAudioContext
        ? new OfflineAudioContext(1, 1, rateOf(entry))
        : new Context();
      const buffer = await context.decodeAudioData(bytes);
      wave = peaks(buffer);
      draw();
      figure.dataset.waveform = "drawn";
      figure.dataset.waveformAt = String(performance.now());
    } catch (error) {
      figure.dataset.waveform = "failed";
      notes.textContent = `The waveform could not be drawn (${error.message || error}); the player works without it.`;
    }
  }

  function seekTo(seconds) {
    const d = duration();
    audio.currentTime = Math.min(Math.max(seconds, 0), d || seconds);
    paintTime();
    active = player;
  }

  const player = {
    figure,
    audio,
    frame,
    stage,
    canvas,
    entry,
    duration,
    time: () => audio.currentTime || 0,
    play() {
      active = player;
      return audio.play().catch((error) => {
        notes.textContent = `Cannot play (${error.message || error}).`;
      });
    },
    pause() {
      audio.pause();
    },
    toggle() {
      if (audio.paused || audio.ended) player.play();
      else audio.pause();
    },
    seekBy(delta) {
      seekTo((audio.currentTime || 0) + delta);
    },
    seekTo,
    speedBy(step) {
      const at = SPEEDS.indexOf(speed);
      const next = SPEEDS[Math.min(Math.max((at < 0 ? 1 : at) + step, 0), SPEEDS.length - 1)];
      speed = next;
      audio.playbackRate = next;
      audio.defaultPlaybackRate = next;
      paintRate();
      active = player;
    },
    speed: () => speed,
    layer,
    clear(prefix) {
      for (const [n, node] of layers) if (n.startsWith(prefix)) node.replaceChildren();
    },
    onTime: (fn) => timeListeners.push(fn),
    onReady: (fn) => (figure.dataset.ready === "true" ? fn() : readyListeners.push(fn)),
    connected: () => figure.isConnected,
  };

  for (const b of [playButton, back, ahead, slower, faster]) {
    b.addEventListener("mousedown", (event) => event.preventDefault()); // Enter still submits
  }
  playButton.addEventListener("click", () => player.toggle());
  back.addEventListener("click", () => player.seekBy(-1));
  ahead.addEventListener("click", () => player.seekBy(1));
  slower.addEventListener("click", () => player.speedBy(-1));
  faster.addEventListener("click", () => player.speedBy(1));
  // A click on the waveform (not on a segment) seeks there.
  frame.addEventListener("pointerdown", (event) => {
    active = player;
    if (event.button !== 0 || event.target !== canvas) return;
    const r = stage.getBoundingClientRect();
    if (r.width) seekTo(((event.clientX - r.left) / r.width) * duration());
  });
  frame.addEventListener("focus", () => {
    active = player;
  });

  audio.addEventListener("play", paintPlay);
  audio.addEventListener("pause", paintPlay);
  audio.addEventListener("ended", paintPlay);
  audio.addEventListener("timeupdate", paintTime);
  audio.addEventListener("seeked", paintTime);
  audio.addEventListener("durationchange", paintTime);
  audio.addEventListener("error", () => {
    figure.dataset.ready = "failed";
    figure.dataset.waveform = "failed";
    notes.textContent = "The audio could not be loaded.";
  });
  audio.addEventListener(
    "canplay",
    () => {
      if (figure.dataset.ready === "true") return;
      figure.dataset.ready = "true";
      figure.dataset.readyAt = String(performance.now());
      paintTime();
      for (const fn of readyListeners.splice(0)) fn();
    },
    { once: false },
  );
  // While playing, the playhead moves every frame (timeupdate alone is ~4 per second).
  const tick = () => {
    if (!figure.isConnected) return;
    if (!audio.paused) paintTime();
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new ResizeObserver(() => draw()).observe(frame);

  paintPlay();
  paintRate();
  paintTime();
  // The waveform's own fetch waits until the audio can play: playing first matters more,
  // and the two would share the connection (bench/ui/bench_player.py measures both).
  player.onReady(decode);
  return player;
}

// The notice shown instead of a player where the payload withheld the audio.
function withheld(entry) {
  const box = el("p", "notice audio-withheld", { role: "note", "data-field": entry.field ?? "" });
  box.textContent = "Audio withheld: you need a voice clearance; work from the transcript.";
  return box;
}

// A player per audio part of `media` appended to `host` (after its images, which
// media.js's renderMedia put there), or the withheld notice. Returns the players.
export function renderAudio(host, media, { caption = "" } = {}) {
  if (!host) return [];
  // The item's images were just put in `host` (renderMedia empties it): a player taken
  // out of the page must not play on unseen.
  for (const player of shown.values()) if (!player.connected() || host.contains(player.figure)) player.pause();
  for (const old of host.querySelectorAll(".audio-player, .audio-withheld")) old.remove();
  const parts = (Array.isArray(media) ? media : []).filter((m) => m && m.kind === "audio");
  const players = [];
  for (const entry of parts) {
    // Only served blobs: a url anywhere else is never loaded; none at all is withheld.
    if (typeof entry.url === "string" && entry.url.startsWith(SERVED)) {
      const player = createPlayer(entry, { caption });
      host.append(player.figure);
      shown.set(entry.field, player);
      players.push(player);
    } else {
      host.append(withheld(entry));
      shown.delete(entry.field);
    }
  }
  if (parts.length) host.hidden = false;
  forgetGone(shown);
  active = players[0] ?? null;
  return players;
}

export function audioPlayer(field) {
  return shownWidget(shown, field);
}

// Place `node` over the waveform from `start` to `end` seconds.
export function placeSpan(node, start, end, duration) {
  const d = duration || 1;
  node.style.left = `${(100 * Math.max(start, 0)) / d}%`;
  node.style.width = `${(100 * Math.max(end - start, 0)) / d}%`;
}

// Read-only segments on the waveform: one layer per answer, each its own colour.
export function drawSegments(player, name, segments, { className = "", title = "" } = {}) {
  const target = answerLayer(player, name, "ap-layer", className);
  const paint = () => {
    target.replaceChildren();
    for (const s of Array.isArray(segments) ? segments : []) {
      const node = el("div", "ap-seg");
      placeSpan(node, Number(s.start), Number(s.end), player.duration());
      tag(node, "ap-tag", s.label, title);
      target.append(node);
    }
  };
  paint();
  player.onReady(paint); // the duration is exact once the audio is loaded
}

export function drawSegmentAnswers(field, answers, { prefix = "answer" } = {}) {
  drawOthers(audioPlayer(field), answers, drawSegments, { prefix, colours: (n) => `ap-others sg-c${n % 6}` });
}

// Server-rendered players (the item page): <div data-audio-json='{...entry}'
// data-segments-json='[{"title","segments"}]'> becomes a player (or the notice).
mountStatic(
  "audio",
  "segments",
  (host, entries) => {
    host.replaceChildren();
    return renderAudio(host, entries);
  },
  drawSegments,
  (i) => `ap-others sg-c${i % 6}`,
);
