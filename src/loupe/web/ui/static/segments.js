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
// The list of segments, the selection, and Tab, Delete, Esc and the label keys are
// marks.js's, as the boxes editor's are. Same interface as the other editors (editors.js);
// `altKeys` asks shortcuts.js for the Alt+arrows.
import { markEditor } from "./marks.js";
import { audioPlayer, clock, placeSpan } from "./player.js";

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
  const keys = spec.keys || [];
  const field = spec.mediaField || "audio";
  const maxSegments = Number(spec.maxSegments) || 500;
  const minLength = Math.max(Number(spec.minDuration) || 0.05, 0.001);
  let player = null;
  let layer = null;
  let pending = null; // the start (s) of a segment whose end is not marked yet

  const said = (s, i) => `segment ${i + 1}, ${s.label}, ${s.start.toFixed(2)} to ${s.end.toFixed(2)} s`;
  const D = () => player?.duration() || 0;
  // The segments: {start, end, label} in seconds, in the order marked.
  const m = markEditor(spec, {
    noun: "segment",
    colours: "sg-c",
    said,
    listed: (s) => `${s.label} · ${clock(s.start, 2)}–${clock(s.end, 2)}`,
    selectedHint: "Alt+arrows move its start (Shift+Alt: its end), Delete removes it, a label's key relabels it.",
    selectHint: "Select a segment first (Tab in the waveform, or click it).",
    isMark: isSegment,
    onPick: (s) => player?.seekTo(s.start),
    paintLayer,
    relabelRepaints: true, // the draft of a segment being marked takes the label's colour
    onStatus,
  });
  const { colour, paint, select } = m;

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
    node.className = `ap-seg sg ${colour(s.label)}${i === m.selected ? " selected" : ""}`;
    node.dataset.index = String(i);
    placeSpan(node, s.start, s.end, D());
    const tag = document.createElement("span");
    tag.className = "ap-tag";
    tag.textContent = `${i + 1} ${s.label}`;
    node.append(tag);
    return node;
  }

  function paintLayer() {
    if (!layer) return;
    layer.replaceChildren(...m.items.map(segmentElement));
    if (pending != null) {
      const mark = document.createElement("div");
      mark.className = `ap-seg sg draft ${colour(keys[m.current])}`;
      const now = player ? player.time() : pending;
      placeSpan(mark, Math.min(pending, now), Math.max(pending, now), D());
      layer.append(mark);
    }
  }

  // M: the start of a segment at the playhead, then its end.
  function mark() {
    const now = player.time();
    if (pending == null) {
      if (m.items.length >= maxSegments) {
        onStatus(`At most ${maxSegments} segments per recording.`, true);
        return;
      }
      pending = now;
      m.selected = -1;
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
    const made = clampSegment({ start, end, label: keys[m.current] });
    const clash = overlapping(made, -1);
    if (clash >= 0) {
      paint();
      onStatus(`It overlaps ${said(m.items[clash], clash)}; this project does not allow overlapping segments. Press M to start again.`, true);
      return;
    }
    m.items.push(made);
    select(m.items.length - 1, true);
    onStatus(`Added ${said(m.items[m.selected], m.selected)}.`);
  }

  // The segment `s` overlaps (other than the one at `skip`), where overlaps are refused.
  function overlapping(s, skip) {
    if (spec.allowOverlap) return -1;
    return m.items.findIndex((o, i) => i !== skip && o.start < s.end && s.start < o.end);
  }

  function nudge(delta, whichEnd) {
    const s = m.items[m.selected];
    const moved = whichEnd
      ? clampSegment({ ...s, end: Math.max(s.end + delta, s.start + minLength), movedEnd: true })
      : clampSegment({ ...s, start: Math.min(s.start + delta, s.end - minLength) });
    const clash = overlapping(moved, m.selected);
    if (clash >= 0) {
      onStatus(`It would overlap ${said(m.items[clash], clash)}; this project does not allow overlapping segments.`, true);
      return;
    }
    m.items[m.selected] = moved;
    paint();
    onStatus(said(moved, m.selected));
  }

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
      if (!hit || !m.enabled) return;
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
      m.clear();
      pending = null;
      attach();
      paint();
    },
    set(answer) {
      m.put(answer, (s) => ({ start: +s.start, end: +s.end, label: s.label }));
      pending = null;
      paint();
    },
    suggest: m.suggest,
    takeSuggestion() {
      return m.takeSuggestion((answer) => this.set(answer));
    },
    value() {
      if (!player) return { error: "This item has no audio you may play: segments cannot be marked." };
      if (pending != null) {
        return { error: `Press M to end the segment started at ${pending.toFixed(2)} s (Esc drops it), then submit.` };
      }
      const answer = [...m.items]
        .sort((a, b) => a.start - b.start || a.end - b.end)
        .map(({ start, end, label: l }) => ({ start, end, label: l }));
      return { answer };
    },
    key(event) {
      if (!m.enabled || !player) return false;
      if (event.altKey) {
        const dir = event.key === "ArrowLeft" ? -1 : event.key === "ArrowRight" ? 1 : 0;
        if (!dir || event.ctrlKey || event.metaKey || m.selected < 0) return false;
        nudge(dir * NUDGE, event.shiftKey);
        return true;
      }
      if (event.key === "Escape" && pending != null) {
        pending = null;
        paint();
        onStatus("Start dropped.");
        return true;
      }
      if (event.key === "m" || event.key === "M") {
        mark();
        return true;
      }
      return m.key(event, player.frame);
    },
    enable(on) {
      m.enable(on);
      layer?.classList.toggle("editing", on);
      if (!on) pending = null;
      paint();
    },
    focus() {
      player?.frame.focus({ preventScroll: true });
    },
  };
}
