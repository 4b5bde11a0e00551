// Answer editors for every task type (web/ui/editors.py renders their widgets).
//
// createEditor(spec, {onStatus}) returns an object with:
//   load(data)   a new item: reset the answer (pairwise panels, text to post-edit, span text)
//   set(answer)  show an answer (undo, the answer under review, a previous answer)
//   value()      {answer} or {error}
//   key(event)   handle the editor's own keys (numbers; Backspace for spans); true if used
//   enable(on)   allow or refuse changes (a review shows the answer read-only until C)
//   focus()      put the keyboard where typing goes (the text box of free-text tasks)
// answerText(spec, answer, data) says an answer in words.
const $ = (id) => document.getElementById(id);

const PAIRWISE = { a: "A is better", b: "B is better", tie: "about the same" };

function digitIndex(key) {
  return /^[0-9]$/.test(key) ? (key === "0" ? 9 : Number(key) - 1) : -1;
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
  return choice(spec);
}

function choice(spec) {
  const buttons = [...document.querySelectorAll(".option")];
  const multi = spec.type === "multi_choice";
  const chosen = new Set();
  let enabled = true;

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

  buttons.forEach((b, i) => b.addEventListener("click", () => choose(i)));

  return {
    load(data) {
      chosen.clear();
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
      for (const b of buttons) b.classList.toggle("suggested", labels.includes(b.dataset.key));
    },
    value() {
      if (multi) {
        if (chosen.size < (spec.minChoices || 0)) {
          const n = spec.minChoices;
          return { error: `Choose at least ${n} label${n === 1 ? "" : "s"} (keys 1–9, 0).` };
        }
        return { answer: [...chosen].sort() };
      }
      if (!chosen.size) {
        return {
          error: spec.type === "pairwise" ? "Choose A or B first (keys 1, 2)." : "Choose a label first (keys 1–9, 0).",
        };
      }
      return { answer: [...chosen][0] };
    },
    key(event) {
      const index = digitIndex(event.key);
      return index >= 0 && enabled && index < buttons.length ? choose(index) : false;
    },
    enable(on) {
      enabled = on;
      for (const b of buttons) b.disabled = !on;
    },
    focus() {},
  };
}

function freeText(spec) {
  const box = $("answer-text");
  return {
    load(data) {
      const source = spec.sourceField ? data[spec.sourceField] : undefined;
      box.value = source == null ? "" : String(source);
    },
    set(answer) {
      box.value = answer == null ? "" : String(answer);
    },
    suggest() {},
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

function spans(spec, onStatus) {
  const surface = $("item-text");
  const buttons = [...document.querySelectorAll(".option")];
  const list = $("span-list");
  const none = $("span-none");
  let text = "";
  let chars = [];
  let marked = []; // {start, end, label} in code points, in the order they were marked
  let enabled = true;

  const colour = (label) => `span-${Math.max(spec.keys.indexOf(label), 0) % 6}`;
  const slice = (s, e) => chars.slice(s, e).join("");

  function paint() {
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

  // The selection inside the item's text, as code-point offsets with whitespace trimmed.
  function selected() {
    const selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(surface)) return null;
    const offset = (node, at) => {
      const r = document.createRange();
      r.selectNodeContents(surface);
      r.setEnd(node, at);
      return r.toString().length;
    };
    const flat = surface.textContent;
    let s = surface.contains(range.startContainer) ? offset(range.startContainer, range.startOffset) : 0;
    let e = surface.contains(range.endContainer) ? offset(range.endContainer, range.endOffset) : flat.length;
    while (s < e && /\s/.test(flat[s])) s++;
    while (e > s && /\s/.test(flat[e - 1])) e--;
    if (s >= e) return null;
    // UTF-16 units to code points, as the API counts them.
    return [codePoints(flat.slice(0, s)).length, codePoints(flat.slice(0, e)).length];
  }

  function tag(index) {
    if (!enabled || index >= spec.keys.length) return false;
    const label = spec.keys[index];
    const found = selected();
    if (!found) {
      onStatus("Select the words of the span in the item first, then press its label's number.", true);
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
    window.getSelection().removeAllRanges();
    paint();
    onStatus(`Marked ${label} “${slice(start, end)}”.`);
    return true;
  }

  // Clicking a label must not clear the selection it is meant to tag.
  buttons.forEach((b, i) => {
    b.addEventListener("mousedown", (event) => event.preventDefault());
    b.addEventListener("click", () => tag(i));
  });

  return {
    load(data) {
      text = String(data[spec.textField] ?? "");
      chars = codePoints(text);
      marked = [];
      paint();
    },
    set(answer) {
      marked = Array.isArray(answer) ? answer.map((s) => ({ start: s.start, end: s.end, label: s.label })) : [];
      paint();
    },
    suggest() {},
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
      const index = digitIndex(event.key);
      return index >= 0 ? tag(index) : false;
    },
    enable(on) {
      enabled = on;
      for (const b of buttons) b.disabled = !on;
      for (const b of list.querySelectorAll("button")) b.disabled = !on;
    },
    focus() {},
  };
}
