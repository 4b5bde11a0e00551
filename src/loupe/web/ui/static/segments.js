// The time-segment editor (task type "segments"): segments of the item's audio (speaker,
// noise, wake word...), a label each, marked by keyboard while it plays (player.js) and
// drawn on its waveform. The answer is [{start, end, label}] in seconds, sorted by start.
//
// Keys (the player's own: Space play/pause, ← → seek, [ ] speed):
//   M                 mark a segment's start at the playhead; M again marks its end
//   1..9, 0, letters  the label of the selected segment, or of the next one marked
//   Tab, Shift+Tab    (in the waveform) select the next / previous segment; past the
//                     last one, Tab leaves the waveform as usual
//   Alt+← →           move the selected segment's start by 0.1 s (Shift+Alt: its end)
//   Delete, Backspace remove the selected segment
//   Esc               drop a start marked without its end, else deselect
//   Enter             submit (the page's own submit)
// Same interface as the other editors (editors.js); `altKeys` asks shortcuts.js for the
// Alt+arrows.
import { audioPlayer, clock, placeSpan } from "./player.js";

const $ = (id) => document.getElementById(id);

const NUDGE = 0.1; // seconds per Alt+arrow

function isSegment(s, keys) {
  return (
    s &&
    typeof s === "object" &&
    Number.isFinite(Number(s.start)) &&
    Number.isFinite(Number(s.end)) &&
    Number(s.end) > Number(s.start) &&
    keys.includes(s.label)
  );
}

const round = (t) => Math.round(t * 100) / 100; // hundredths of a second, as the API stores them

export function segmentsEditor(spec, { onStatus = () => {} } = {}) {
  const buttons = [...document.querySelectorAll(".option")];
  const list = $("segment-list");
  const none = $("segment-none");
  const count = $("segment-count");
  const keys = spec.keys || [];
  const field = spec.mediaField || "audio";
  const maxSegments = Number(spec.maxSegments) || 500;
  const minLength = Math.max(Number(spec.minDuration) || 0.05, 0.001);
  let player = null;
  let layer = null;
  let segments = []; // {start, end, label} in seconds, in the order marked
  let selected = -1;
  let current = 0; // the label (index) of the next segment marked
  let pending = null; // the start (s) of a segment whose end is not marked yet
  let enabled = true;
  let suggested = null;

  const colour = (label) => `sg-c${Math.max(keys.indexOf(label), 0) % 6}`;
  const said = (s, i) => `segment ${i + 1}, ${s.label}, ${s.start.toFixed(2)} to ${s.end.toFixed(2)} s`;
  const D = () => player?.duration() || 0;

  function clampSegment(s) {
    const d = D();
    let start = Math.max(s.start, 0);
    let end = d ? Math.min(s.end, d) : s.end;
    if (end - start < minLength) {
      if (s.movedEnd) end = Math.min(start + minLength, d || start + minLength);
      else start = Math.max(end - minLength, 0);
    }
    return { start: round(start), end: round(end), label: s.label };
  }

  function segmentElement(s, i) {
    const node = document.createElement("div");
    node.className = `ap-seg sg ${colour(s.label)}${i === selected ? " selected" : ""}`;
    node.dataset.index = String(i);
    placeSpan(node, s.start, s.end, D());
    const tag = document.createElement("span");
    tag.className = "ap-tag";
    tag.textContent = `${i + 1} ${s.label}`;
    node.append(tag);
    return node;
  }

  function paintButtons() {
    const label = selected >= 0 ? segments[selected].label : keys[current];
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.key === label));
    const shownLabel = $("segment-label");
    if (shownLabel) {
      const key = spec.shortcuts?.[keys.indexOf(label)];
      shownLabel.textContent = `${label ?? ""}${key ? ` (${key.toUpperCase()})` : ""}${selected >= 0 ? ` · segment ${selected + 1}` : " · next segment"}`;
    }
  }

  function paint() {
    if (layer) {
      layer.replaceChildren(...segments.map(segmentElement));
      if (pending != null) {
        const mark = document.createElement("div");
        mark.className = `ap-seg sg draft ${colour(keys[current])}`;
        const now = player ? player.time() : pending;
        placeSpan(mark, Math.min(pending, now), Math.max(pending, now), D());
        layer.append(mark);
      }
    }
    list?.replaceChildren(
      ...segments.map((s, i) => {
        const li = document.createElement("li");
        const pick = document.createElement("button");
        pick.type = "button";
        pick.className = `link-button segment-item ${colour(s.label)}`;
        pick.setAttribute("aria-pressed", String(i === selected));
        pick.setAttribute("aria-label", `Select ${said(s, i)}`);
        pick.textContent = `${s.label} · ${clock(s.start, 2)}–${clock(s.end, 2)}`;
        pick.addEventListener("mousedown", (event) => event.preventDefault());
        pick.addEventListener("click", () => {
          select(i);
          player?.seekTo(s.start);
        });
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link-button";
        remove.textContent = "remove";
        remove.setAttribute("aria-label", `Remove ${said(s, i)}`);
        remove.disabled = !enabled;
        remove.addEventListener("mousedown", (event) => event.preventDefault());
        remove.addEventListener("click", () => removeSegment(i));
        li.append(pick, " ", remove);
        return li;
      }),
    );
    if (none) none.hidden = segments.length > 0;
    if (count) count.textContent = segments.length ? `(${segments.length})` : "";
    paintButtons();
  }

  function select(i, quiet = false) {
    selected = i >= 0 && i < segments.length ? i : -1;
    paint();
    if (!quiet && selected >= 0) {
      onStatus(`Selected ${said(segments[selected], selected)}: Alt+arrows move its start (Shift+Alt: its end), Delete removes it, a label's key relabels it.`);
    }
  }

  function removeSegment(i) {
    if (!enabled || i < 0 || i >= segments.length) return;
    const [gone] = segments.splice(i, 1);
    selected = -1;
    paint();
    onStatus(`Removed ${said(gone, i)}.`);
  }

  function label(index) {
    if (index < 0 || index >= keys.length) return false;
    current = index;
    if (selected >= 0) {
      segments[selected].label = keys[index];
      paint();
      onStatus(`Segment ${selected + 1} is now ${keys[index]}.`);
    } else {
      paint();
      onStatus(`The next segment will be ${keys[index]}.`);
    }
    return true;
  }

  // M: the start of a segment at the playhead, then its end.
  function mark() {
    const now = player.time();
    if (pending == null) {
      if (segments.length >= maxSegments) {
        onStatus(`At most ${maxSegments} segments per recording.`, true);
        return;
      }
      pending = now;
      selected = -1;
      paint();
      onStatus(`Start marked at ${now.toFixed(2)} s: press M again at its end (Esc drops it).`);
      return;
    }
    const [start, end] = pending <= now ? [pending, now] : [now, pending];
    pending = null;
    if (end - start < minLength) {
      paint();
      onStatus(`Too short (${(end - start).toFixed(2)} s): a segment lasts at least ${minLength} s. Press M to start again.`, true);
      return;
    }
    const made = clampSegment({ start, end, label: keys[current] });
    const clash = overlapping(made, -1);
    if (clash >= 0) {
      paint();
      onStatus(`It overlaps ${said(segments[clash], clash)}; this project does not allow overlapping segments. Press M to start again.`, true);
      return;
    }
    segments.push(made);
    select(segments.length - 1, true);
    onStatus(`Added ${said(segments[selected], selected)}.`);
  }

  // The segment `s` overlaps (other than the one at `skip`), where overlaps are refused.
  function overlapping(s, skip) {
    if (spec.allowOverlap) return -1;
    return segments.findIndex((o, i) => i !== skip && o.start < s.end && s.start < o.end);
  }

  function nudge(delta, whichEnd) {
    const s = segments[selected];
    const moved = whichEnd
      ? clampSegment({ ...s, end: Math.max(s.end + delta, s.start + minLength), movedEnd: true })
      : clampSegment({ ...s, start: Math.min(s.start + delta, s.end - minLength) });
    const clash = overlapping(moved, selected);
    if (clash >= 0) {
      onStatus(`It would overlap ${said(segments[clash], clash)}; this project does not allow overlapping segments.`, true);
      return;
    }
    segments[selected] = moved;
    paint();
    onStatus(said(moved, selected));
  }

  buttons.forEach((b, i) => {
    b.addEventListener("mousedown", (event) => event.preventDefault()); // Enter still submits
    b.addEventListener("click", () => {
      if (enabled) label(i);
    });
  });

  function attach() {
    player = audioPlayer(field);
    layer = null;
    if (!player) return;
    layer = player.layer("edit");
    layer.classList.add("ap-edit");
    if (layer.dataset.bound) return;
    layer.dataset.bound = "true";
    // A click on a segment selects it; the draft follows the playhead.
    player.stage.addEventListener("pointerdown", (event) => {
      const hit = event.target instanceof Element ? event.target.closest(".ap-edit .sg:not(.draft)") : null;
      if (!hit || !enabled) return;
      event.preventDefault();
      select(Number(hit.dataset.index));
      player.frame.focus({ preventScroll: true });
    });
    player.onTime(() => {
      if (pending != null) paint();
    });
    player.onReady(paint); // the exact duration places the segments
    player.frame.setAttribute(
      "aria-description",
      "Space plays, M marks a segment's start and then its end, Tab selects the next segment, Alt+arrows move its start (Shift+Alt: its end), Delete removes it.",
    );
    player.frame.setAttribute("aria-describedby", "segment-help");
  }

  return {
    altKeys: true,
    load() {
      segments = [];
      selected = -1;
      pending = null;
      suggested = null;
      attach();
      paint();
    },
    set(answer) {
      segments = Array.isArray(answer)
        ? answer.filter((s) => isSegment(s, keys)).map((s) => ({ start: +s.start, end: +s.end, label: s.label }))
        : [];
      selected = -1;
      pending = null;
      paint();
    },
    suggest(labels) {
      suggested = labels.length && labels.every((s) => isSegment(s, keys)) ? labels : null;
    },
    takeSuggestion() {
      if (!enabled || !suggested) return false;
      this.set(suggested);
      return true;
    },
    value() {
      if (!player) return { error: "This item has no audio you may play: segments cannot be marked." };
      if (pending != null) {
        return { error: `Press M to end the segment started at ${pending.toFixed(2)} s (Esc drops it), then submit.` };
      }
      const answer = [...segments]
        .sort((a, b) => a.start - b.start || a.end - b.end)
        .map(({ start, end, label: l }) => ({ start, end, label: l }));
      return { answer };
    },
    key(event) {
      if (!enabled || !player) return false;
      if (event.altKey) {
        const dir = event.key === "ArrowLeft" ? -1 : event.key === "ArrowRight" ? 1 : 0;
        if (!dir || event.ctrlKey || event.metaKey || selected < 0) return false;
        nudge(dir * NUDGE, event.shiftKey);
        return true;
      }
      if (event.key === "Tab") {
        if (document.activeElement !== player.frame || !segments.length) return false;
        const next = event.shiftKey ? (selected < 0 ? segments.length - 1 : selected - 1) : selected + 1;
        if (next < 0 || next >= segments.length) {
          select(-1, true);
          return false; // leave the waveform as Tab always does
        }
        select(next);
        return true;
      }
      if (event.key === "Delete" || event.key === "Backspace") {
        if (selected < 0) {
          onStatus(segments.length ? "Select a segment first (Tab in the waveform, or click it)." : "No segment to remove.", true);
          return true;
        }
        removeSegment(selected);
        return true;
      }
      if (event.key === "Escape") {
        if (pending != null) {
          pending = null;
          paint();
          onStatus("Start dropped.");
          return true;
        }
        if (selected < 0) return false;
        select(-1, true);
        onStatus("No segment selected.");
        return true;
      }
      if (event.key === "m" || event.key === "M") {
        mark();
        return true;
      }
      if (event.key.length !== 1 || event.key === " ") return false;
      return label(keys.length ? (spec.shortcuts || []).indexOf(event.key.toLowerCase()) : -1);
    },
    enable(on) {
      enabled = on;
      layer?.classList.toggle("editing", on);
      for (const b of buttons) b.disabled = !on;
      if (!on) pending = null;
      paint();
    },
    focus() {
      player?.frame.focus({ preventScroll: true });
    },
  };
}
