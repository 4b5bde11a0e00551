// Answer editors for every task type (web/ui/editors.py renders their widgets).
//
// createEditor(spec, {onStatus}) returns an object with:
//   load(data)   a new item: reset the answer (pairwise panels, text to post-edit, span text)
//   set(answer)  show an answer (undo, the answer under review, a previous answer)
//   value()      {answer} or {error}
//   key(event)   handle the editor's own keys (the labels' keys: 1..9, 0, then letters;
//                / to find a label by name; for spans also the arrows that select words
//                and Backspace); true if used
//   suggest(labels)  the model's suggestion for this item (shown on its label buttons)
//   takeSuggestion() make the suggestion the answer; false when there is none
//   enable(on)   allow or refuse changes (a review shows the answer read-only until C)
//   focus()      put the keyboard where typing goes (the text box of free-text tasks)
// answerText(spec, answer, data) says an answer in words.
import { boxesEditor } from "./boxes.js";
import { boxesText } from "./media.js";
import { segmentsText } from "./player.js";
import { segmentsEditor } from "./segments.js";

const $ = (id) => document.getElementById(id);

const PAIRWISE = { a: "A is better", b: "B is better", tie: "about the same" };

// The option a key stands for: spec.shortcuts is what each button shows (1..9, 0, then
// letters no page uses; "" past those), so the keys and their hints cannot disagree.
function keyIndex(spec, event) {
  if (event.key.length !== 1 || event.key === " ") return -1;
  return (spec.shortcuts || []).indexOf(event.key.toLowerCase());
}

// `/` opens a box that finds a label by name (for projects with more labels than keys):
// typing narrows the buttons to the labels that contain it, Enter takes the first one
// left, Esc closes the box. Rendered only when there are more than ten labels.
function labelFinder(buttons, pick, { onOpen = () => {}, onCancel = () => {} } = {}) {
  const box = $("label-find");
  const input = $("label-find-input");
  const said = $("label-find-said");
  if (!box || !input) return null;
  let matches = [];

  function filter() {
    const query = input.value.trim().toLowerCase();
    const named = (b) => b.dataset.key.toLowerCase();
    const hits = buttons
      .map((b, i) => [b, i])
      .filter(([b]) => !query || named(b).includes(query) || (b.title || "").toLowerCase().includes(query));
    // Names that start with the query first, then the rest in their order.
    hits.sort(([a], [b]) => Number(!named(a).startsWith(query)) - Number(!named(b).startsWith(query)));
    matches = hits.map(([, i]) => i);
    const shown = new Set(matches);
    buttons.forEach((b, i) => {
      b.hidden = !shown.has(i);
      b.classList.toggle("found-first", Boolean(query) && i === matches[0]);
    });
    said.textContent = !query
      ? "Type part of a label's name."
      : matches.length
        ? `Enter chooses ${buttons[matches[0]].dataset.key}${matches.length > 1 ? ` (${matches.length} matches)` : ""}.`
        : "No label matches.";
  }

  function close() {
    if (box.hidden) return false;
    box.hidden = true;
    input.value = "";
    for (const b of buttons) {
      b.hidden = false;
      b.classList.remove("found-first");
    }
    if (document.activeElement === input) $("main").focus();
    return true;
  }

  input.addEventListener("input", filter);
  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return; // Enter and Esc belong to the input method then
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      event.stopPropagation(); // Enter here chooses; it does not submit
      const first = input.value.trim() && matches.length ? matches[0] : -1;
      close();
      if (first >= 0) pick(first);
      else onCancel();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // Esc closes the box, not the page's correction
      if (close()) onCancel();
    }
  });
  input.addEventListener("blur", () => {
    if (close()) onCancel();
  });

  function open() {
    onOpen();
    box.hidden = false;
    filter();
    input.focus();
  }
  const opener = $("label-find-open");
  opener.addEventListener("mousedown", (event) => event.preventDefault()); // keep a span's selection
  opener.addEventListener("click", open);

  return {
    open,
    close,
    enable(on) {
      opener.disabled = !on;
      if (!on) close();
    },
  };
}

function codePoints(text) {
  return [...text];
}

export function answerText(spec, answer, data = {}) {
  switch (spec.type) {
    case "pairwise":
      return PAIRWISE[answer] ?? String(answer);
    case "multi_choice":
      return Array.isArray(answer) && answer.length ? answer.join(", ") : "(no labels)";
    case "free_text":
      return String(answer ?? "");
    case "boxes":
      return boxesText(answer);
    case "segments":
      return segmentsText(answer);
    case "spans": {
      if (!Array.isArray(answer) || !answer.length) return "(no spans)";
      const chars = codePoints(String(data[spec.textField] ?? ""));
      return answer
        .map((s) => `${s.label} “${chars.slice(s.start, s.end).join("")}”`)
        .join("; ");
    }
    default:
      return Array.isArray(answer) ? answer.join(", ") : String(answer ?? "");
  }
}

export function createEditor(spec, { onStatus = () => {} } = {}) {
  if (spec.type === "free_text") return freeText(spec);
  if (spec.type === "spans") return spans(spec, onStatus);
  if (spec.type === "boxes") return boxesEditor(spec, { onStatus });
  if (spec.type === "segments") return segmentsEditor(spec, { onStatus });
  return choice(spec);
}

function choice(spec) {
  const buttons = [...document.querySelectorAll(".option")];
  const multi = spec.type === "multi_choice";
  const chosen = new Set();
  let suggested = [];
  let enabled = true;
  const keysHint = buttons.length > 10 ? "the keys on the labels, or / to find one" : "keys 1–9, 0";

  function paint() {
    for (const b of buttons) b.setAttribute("aria-pressed", String(chosen.has(b.dataset.key)));
    if (spec.type === "pairwise") {
      $("pair-side-a").classList.toggle("chosen", chosen.has("a"));
      $("pair-side-b").classList.toggle("chosen", chosen.has("b"));
    }
  }

  function choose(index) {
    const button = buttons[index];
    if (!button || !enabled) return false;
    const key = button.dataset.key;
    if (multi) {
      if (chosen.has(key)) chosen.delete(key);
      else chosen.add(key);
    } else {
      chosen.clear();
      chosen.add(key);
    }
    paint();
    return true;
  }

  buttons.forEach((b, i) => {
    // A mouse click chooses without keeping the focus on the button, so Enter still
    // submits afterwards; Enter on a button focused by keyboard (Tab) chooses it.
    b.addEventListener("mousedown", (event) => event.preventDefault());
    b.addEventListener("click", () => choose(i));
  });
  const finder = labelFinder(buttons, choose);

  return {
    load(data) {
      chosen.clear();
      suggested = [];
      finder?.close();
      for (const b of buttons) b.classList.remove("suggested");
      if (spec.type === "pairwise") {
        $("pair-a").textContent = data[spec.aField] == null ? "" : String(data[spec.aField]);
        $("pair-b").textContent = data[spec.bField] == null ? "" : String(data[spec.bField]);
      }
      paint();
    },
    set(answer) {
      chosen.clear();
      for (const key of Array.isArray(answer) ? answer : [answer]) chosen.add(key);
      paint();
    },
    suggest(labels) {
      suggested = buttons.map((b) => b.dataset.key).filter((key) => labels.includes(key));
      for (const b of buttons) b.classList.toggle("suggested", suggested.includes(b.dataset.key));
    },
    takeSuggestion() {
      if (!enabled || !suggested.length) return false;
      chosen.clear();
      for (const key of multi ? suggested : suggested.slice(0, 1)) chosen.add(key);
      paint();
      return true;
    },
    value() {
      if (multi) {
        if (chosen.size < (spec.minChoices || 0)) {
          const n = spec.minChoices;
          return { error: `Choose at least ${n} label${n === 1 ? "" : "s"} (${keysHint}).` };
        }
        return { answer: [...chosen].sort() };
      }
      if (!chosen.size) {
        return {
          error:
            spec.type === "pairwise"
              ? "Choose A or B first (keys 1, 2)."
              : `Choose a label first (${keysHint}).`,
        };
      }
      return { answer: [...chosen][0] };
    },
    key(event) {
      if (!enabled) return false;
      if (event.key === "/" && finder) {
        finder.open();
        return true;
      }
      const index = keyIndex(spec, event);
      return index >= 0 && index < buttons.length ? choose(index) : false;
    },
    enable(on) {
      enabled = on;
      for (const b of buttons) b.disabled = !on;
      finder?.enable(on);
    },
    focus() {},
  };
}

function freeText(spec) {
  const box = $("answer-text");
  let suggested = null;
  return {
    load(data) {
      const source = spec.sourceField ? data[spec.sourceField] : undefined;
      box.value = source == null ? "" : String(source);
      suggested = null;
    },
    set(answer) {
      box.value = answer == null ? "" : String(answer);
    },
    suggest(labels) {
      suggested = typeof labels[0] === "string" ? labels[0] : null;
    },
    takeSuggestion() {
      if (box.readOnly || suggested == null) return false;
      box.value = suggested;
      return true;
    },
    value() {
      const text = box.value.trim();
      const n = codePoints(text).length;
      if (n < spec.minLength) {
        return { error: text ? `Write at least ${spec.minLength} characters.` : "Write the text first." };
      }
      if (n > spec.maxLength) return { error: `Shorten the text to at most ${spec.maxLength} characters (now ${n}).` };
      return { answer: text };
    },
    key() {
      return false;
    },
    enable(on) {
      box.readOnly = !on;
      box.setAttribute("aria-readonly", String(!on));
    },
    focus() {
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    },
  };
}

// The words of a text, as [start, end) code-point offsets: runs of letters and digits
// (with ' ’ - . inside, as in "O'Neil", "e-mail", "U.S"), and each other mark on its own.
function words(chars) {
  const word = (c) => c !== undefined && /[\p{L}\p{M}\p{N}_]/u.test(c);
  const found = [];
  let i = 0;
  while (i < chars.length) {
    if (/\s/u.test(chars[i])) {
      i++;
      continue;
    }
    let j = i + 1;
    if (word(chars[i])) {
      for (;;) {
        if (word(chars[j])) j++;
        else if (/['’\-.]/u.test(chars[j] ?? "") && word(chars[j + 1])) j += 2;
        else break;
      }
    }
    found.push([i, j]);
    i = j;
  }
  return found;
}

// Spans are chosen three ways, all ending in the page's selection inside the item's text:
// the mouse (drag, double-click); the keyboard (← → select the previous/next word,
// Shift+← → move the selection's far end by a word); touch (tap a word, then tap another
// to stretch the selection to it; tap the only selected word again to drop it). A label's
// key, a click or a tap on the label, or `/` and its name, tags the selection.
function spans(spec, onStatus) {
  const surface = $("item-text");
  const buttons = [...document.querySelectorAll(".option")];
  const list = $("span-list");
  const none = $("span-none");
  let text = "";
  let chars = [];
  let tokens = [];
  let marked = []; // {start, end, label} in code points, in the order they were marked
  let enabled = true;
  let cursor = null; // the words last selected by keys or taps: {anchor, focus, start, end}
  let held = null; // the selection as it was when a label was pressed or `/` opened the finder
  let down = null; // the last pointerdown: {touch, cursor}
  let after = null; // the words of the span marked last, [first, last]: the arrows go on from it

  const colour = (label) => `span-${Math.max(spec.keys.indexOf(label), 0) % 6}`;
  const slice = (s, e) => chars.slice(s, e).join("");

  function paint() {
    cursor = null;
    const cuts = new Set([0, chars.length]);
    for (const s of marked) cuts.add(s.start).add(s.end);
    const points = [...cuts].sort((a, b) => a - b);
    surface.replaceChildren();
    for (let i = 0; i + 1 < points.length; i++) {
      const [from, to] = [points[i], points[i + 1]];
      const covering = marked.filter((s) => s.start <= from && s.end >= to);
      const piece = slice(from, to);
      if (!covering.length) {
        surface.append(piece);
        continue;
      }
      const mark = document.createElement("mark");
      mark.className = `span ${colour(covering[covering.length - 1].label)}`;
      mark.textContent = piece;
      const ending = covering.filter((s) => s.end === to).map((s) => s.label);
      if (ending.length) mark.dataset.label = ending.join(" ");
      surface.append(mark);
    }
    list.replaceChildren();
    const ordered = [...marked].sort((a, b) => a.start - b.start || a.end - b.end);
    for (const s of ordered) {
      const li = document.createElement("li");
      const tag = document.createElement("span");
      tag.className = `span-tag ${colour(s.label)}`;
      tag.textContent = s.label;
      const quote = document.createElement("span");
      quote.textContent = ` “${slice(s.start, s.end)}” `;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button";
      remove.textContent = "remove";
      remove.setAttribute("aria-label", `Remove ${s.label} “${slice(s.start, s.end)}”`);
      remove.disabled = !enabled;
      remove.addEventListener("click", () => {
        marked = marked.filter((m) => m !== s);
        paint();
        onStatus(`Removed ${s.label} “${slice(s.start, s.end)}”.`);
      });
      li.append(tag, quote, remove);
      list.append(li);
    }
    none.hidden = marked.length > 0;
  }

  // Code points from the start of the item's text to a DOM position inside it.
  function pointOf(node, at) {
    const r = document.createRange();
    r.selectNodeContents(surface);
    r.setEnd(node, at);
    return codePoints(r.toString()).length;
  }

  // The DOM position of a code-point offset (the inverse of pointOf).
  function domAt(point) {
    const walker = document.createTreeWalker(surface, NodeFilter.SHOW_TEXT);
    let left = point;
    let last = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const inside = codePoints(node.data);
      if (left <= inside.length) return [node, inside.slice(0, left).join("").length];
      left -= inside.length;
      last = node;
    }
    return last ? [last, last.data.length] : [surface, surface.childNodes.length];
  }

  // The selection inside the item's text, as code-point offsets with whitespace trimmed.
  function selected() {
    const selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(surface)) return null;
    const flat = surface.textContent;
    const units = (node, at) => {
      const r = document.createRange();
      r.selectNodeContents(surface);
      r.setEnd(node, at);
      return r.toString().length;
    };
    let s = surface.contains(range.startContainer) ? units(range.startContainer, range.startOffset) : 0;
    let e = surface.contains(range.endContainer) ? units(range.endContainer, range.endOffset) : flat.length;
    while (s < e && /\s/.test(flat[s])) s++;
    while (e > s && /\s/.test(flat[e - 1])) e--;
    if (s >= e) return null;
    // UTF-16 units to code points, as the API counts them.
    return [codePoints(flat.slice(0, s)).length, codePoints(flat.slice(0, e)).length];
  }

  // The selected words: the ones keys or taps chose, or those a mouse selection touches.
  function current() {
    const found = selected();
    if (!found) return null;
    const [start, end] = found;
    if (cursor && cursor.start === start && cursor.end === end) return cursor;
    const first = tokens.findIndex(([, e]) => e > start);
    const last = tokens.findLastIndex(([s]) => s < end);
    if (first < 0 || last < first) return null;
    return { anchor: first, focus: last, start, end };
  }

  function selectWords(anchor, focus) {
    const [lo, hi] = anchor <= focus ? [anchor, focus] : [focus, anchor];
    const [start, end] = [tokens[lo][0], tokens[hi][1]];
    const [a, aAt] = domAt(start);
    const [b, bAt] = domAt(end);
    window.getSelection().setBaseAndExtent(a, aAt, b, bAt);
    cursor = { anchor, focus, start, end };
    const box = window.getSelection().getRangeAt(0).getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight * 0.6) {
      window.scrollBy({ top: box.top - window.innerHeight / 3 });
    }
    onStatus(`Selected “${slice(start, end)}”: press a label's key, or tap the label.`);
  }

  function clearSelection() {
    window.getSelection().removeAllRanges();
    cursor = null;
  }

  // ← → (direction -1, +1) select the previous or next word; with Shift, move the far end.
  function step(direction, stretch) {
    if (!tokens.length) return;
    const last = tokens.length - 1;
    const clamp = (i) => Math.min(Math.max(i, 0), last);
    const now = current();
    if (!now) {
      const i = after ? clamp(after[direction > 0 ? 1 : 0] + direction) : direction > 0 ? 0 : last;
      selectWords(i, i);
    } else if (stretch) {
      selectWords(now.anchor, clamp(now.focus + direction));
    } else {
      const edge = direction > 0 ? Math.max(now.anchor, now.focus) : Math.min(now.anchor, now.focus);
      const i = clamp(edge + direction);
      selectWords(i, i);
    }
  }

  // The word under a tap, or -1 (a tap on a space between words).
  function wordAt(x, y) {
    let node = null;
    let at = 0;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      if (p) [node, at] = [p.offsetNode, p.offset];
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(x, y);
      if (r) [node, at] = [r.startContainer, r.startOffset];
    }
    if (!node || !surface.contains(node)) return -1;
    const point = pointOf(node, at);
    // A tap on a word's right half puts the caret after it.
    const inside = tokens.findIndex(([s, e]) => s <= point && point < e);
    return inside >= 0 ? inside : tokens.findIndex(([s, e]) => s < point && point <= e);
  }

  function tap(event) {
    const before = down?.cursor ?? null;
    const i = wordAt(event.clientX, event.clientY);
    if (i < 0) return;
    if (before && before.anchor === i && before.focus === i) {
      clearSelection();
      onStatus("Selection cleared.");
    } else {
      selectWords(before ? before.anchor : i, i);
    }
  }

  function tag(index) {
    if (!enabled || index >= spec.keys.length) return false;
    const label = spec.keys[index];
    const found = selected() ?? held;
    held = null;
    if (!found) {
      onStatus("Select the words of the span first (drag, arrow keys, or tap the words), then press its label's key.", true);
      return true;
    }
    const [start, end] = found;
    if (marked.some((s) => s.start === start && s.end === end && s.label === label)) {
      onStatus("That span is already marked.", true);
      return true;
    }
    const clash = marked.find((s) => s.start < end && start < s.end);
    if (clash && !spec.allowOverlap) {
      onStatus(`It overlaps ${clash.label} “${slice(clash.start, clash.end)}”; this project does not allow overlapping spans.`, true);
      return true;
    }
    marked.push({ start, end, label });
    after = [tokens.findIndex(([, e]) => e > start), tokens.findLastIndex(([s]) => s < end)];
    clearSelection();
    paint();
    onStatus(`Marked ${label} “${slice(start, end)}”.`);
    return true;
  }

  // What was selected when a pointer went down: a tap on a label tags it even where the
  // tap itself clears the page's selection (touch screens), and a tap on a word
  // stretches the selection it found.
  document.addEventListener(
    "pointerdown",
    (event) => {
      const onLabel = event.target instanceof Element && buttons.includes(event.target.closest(".option"));
      held = onLabel ? selected() : null;
      down = { touch: event.pointerType === "touch", cursor: surface.contains(event.target) ? current() : null };
    },
    true,
  );
  // The tap's own mouse events put a caret where it fell; the words are chosen after them.
  surface.addEventListener("click", (event) => {
    if (enabled && down?.touch) tap(event);
  });

  // Clicking a label must not clear the selection it is meant to tag.
  buttons.forEach((b, i) => {
    b.addEventListener("mousedown", (event) => event.preventDefault());
    b.addEventListener("click", () => tag(i));
  });
  const finder = labelFinder(buttons, tag, {
    onOpen: () => {
      held = selected();
    },
    onCancel: () => {
      // Give back the selection the finder's text box took.
      if (held) {
        const [a, aAt] = domAt(held[0]);
        const [b, bAt] = domAt(held[1]);
        window.getSelection().setBaseAndExtent(a, aAt, b, bAt);
      }
      held = null;
    },
  });

  let suggested = null;

  return {
    load(data) {
      text = String(data[spec.textField] ?? "");
      chars = codePoints(text);
      tokens = words(chars);
      marked = [];
      suggested = null;
      held = null;
      after = null;
      finder?.close();
      paint();
    },
    set(answer) {
      marked = Array.isArray(answer) ? answer.map((s) => ({ start: s.start, end: s.end, label: s.label })) : [];
      paint();
    },
    suggest(labels) {
      const spanLike = (s) => s && Number.isInteger(s.start) && Number.isInteger(s.end) && spec.keys.includes(s.label);
      suggested = labels.length && labels.every(spanLike) ? labels : null;
    },
    takeSuggestion() {
      if (!enabled || !suggested) return false;
      this.set(suggested);
      return true;
    },
    value() {
      const answer = [...marked].sort(
        (a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
      );
      return { answer };
    },
    key(event) {
      if (!enabled) return false;
      if (event.key === "Backspace") {
        const last = marked.pop();
        paint();
        onStatus(last ? `Removed ${last.label} “${slice(last.start, last.end)}”.` : "No span to remove.", !last);
        return true;
      }
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        step(event.key === "ArrowRight" ? 1 : -1, event.shiftKey);
        return true;
      }
      if (event.key === "/" && finder) {
        finder.open();
        return true;
      }
      const index = keyIndex(spec, event);
      return index >= 0 ? tag(index) : false;
    },
    enable(on) {
      enabled = on;
      for (const b of buttons) b.disabled = !on;
      for (const b of list.querySelectorAll("button")) b.disabled = !on;
      finder?.enable(on);
    },
    focus() {},
  };
}
