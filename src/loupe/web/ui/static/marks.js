// What the box and segment editors share (boxes.js, segments.js): the marks an answer
// puts on an item's media (boxes on an image, segments of a recording), a label each, one
// of them selected; the label buttons, the list of marks beside the media and the label
// shown by it; and the keys that select the next mark, relabel it, remove it and
// deselect it:
//   1..9, 0, letters  the label of the selected mark, or of the next one made
//   Tab, Shift+Tab    (in the media's frame) select the next / previous mark; past the
//                     last one, Tab leaves the frame as usual
//   Delete, Backspace remove the selected mark
//   Esc               deselect
//
// markEditor(spec, options) returns the state (`items`, `selected`, `current`, `enabled`)
// and what acts on it. The editor draws its own layer over the media (`paintLayer`) and
// handles its own keys before handing the others to `key(event, frame)`. The page has
// `#<noun>-list`, `#<noun>-none`, `#<noun>-count` and `#<noun>-label`, each optional.

const $ = (id) => document.getElementById(id);

export function markEditor(
  spec,
  {
    noun, // "box", "segment"
    colours, // the class prefix of the six label colours: "bx-c", "sg-c"
    said, // (mark, index) => the mark in words, for the status line and screen readers
    listed, // mark => its text in the list
    selectedHint, // what the keys do to a selected mark, after "Selected <mark>: "
    selectHint, // how to select one, when Delete finds none selected
    isMark, // (value, keys) => whether a value from the server is a valid mark
    onPick = () => {}, // a mark picked in the list (after it is selected)
    paintLayer = () => {}, // draw the marks over the media
    relabelRepaints = false, // a label for the next mark redraws the layer too (its draft)
    onStatus = () => {},
  },
) {
  const buttons = [...document.querySelectorAll(".option")];
  const list = $(`${noun}-list`);
  const none = $(`${noun}-none`);
  const count = $(`${noun}-count`);
  const keys = spec.keys || [];
  const Noun = noun[0].toUpperCase() + noun.slice(1);

  const m = {
    keys,
    items: [], // in the order made
    selected: -1,
    current: 0, // the label (index) of the next mark made
    enabled: true,
    suggested: null,
    colour: (label) => `${colours}${Math.max(keys.indexOf(label), 0) % 6}`,
    paint,
    paintButtons,
    select,
    remove,
    label,
    key,
    // A new item: no marks, none selected, nothing suggested.
    clear() {
      m.items = [];
      m.selected = -1;
      m.suggested = null;
    },
    // The valid marks of an answer from the server, made by `toMark`; none selected.
    put(answer, toMark) {
      m.items = Array.isArray(answer) ? answer.filter((x) => isMark(x, keys)).map(toMark) : [];
      m.selected = -1;
    },
    suggest(labels) {
      m.suggested = labels.length && labels.every((x) => isMark(x, keys)) ? labels : null;
    },
    // Put the suggested answer with `set` (the editor's own), where there is one.
    takeSuggestion(set) {
      if (!m.enabled || !m.suggested) return false;
      set(m.suggested);
      return true;
    },
    enable(on) {
      m.enabled = on;
      for (const b of buttons) b.disabled = !on;
    },
  };

  function paintButtons() {
    const label = m.selected >= 0 ? m.items[m.selected].label : keys[m.current];
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.key === label));
    // Beside the media (the label buttons may be out of sight below it).
    const shown = $(`${noun}-label`);
    if (shown) {
      const key = spec.shortcuts?.[keys.indexOf(label)];
      shown.textContent = `${label ?? ""}${key ? ` (${key.toUpperCase()})` : ""}${m.selected >= 0 ? ` · ${noun} ${m.selected + 1}` : ` · next ${noun}`}`;
    }
  }

  function paint() {
    paintLayer();
    list?.replaceChildren(
      ...m.items.map((x, i) => {
        const li = document.createElement("li");
        const pick = document.createElement("button");
        pick.type = "button";
        pick.className = `link-button ${noun}-item ${m.colour(x.label)}`;
        pick.setAttribute("aria-pressed", String(i === m.selected));
        pick.setAttribute("aria-label", `Select ${said(x, i)}`);
        pick.textContent = listed(x);
        pick.addEventListener("mousedown", (event) => event.preventDefault());
        pick.addEventListener("click", () => {
          select(i);
          onPick(x);
        });
        const drop = document.createElement("button");
        drop.type = "button";
        drop.className = "link-button";
        drop.textContent = "remove";
        drop.setAttribute("aria-label", `Remove ${said(x, i)}`);
        drop.disabled = !m.enabled;
        drop.addEventListener("mousedown", (event) => event.preventDefault());
        drop.addEventListener("click", () => remove(i));
        li.append(pick, " ", drop);
        return li;
      }),
    );
    if (none) none.hidden = m.items.length > 0;
    if (count) count.textContent = m.items.length ? `(${m.items.length})` : "";
    paintButtons();
  }

  function select(i, quiet = false) {
    m.selected = i >= 0 && i < m.items.length ? i : -1;
    paint();
    if (!quiet && m.selected >= 0) {
      onStatus(`Selected ${said(m.items[m.selected], m.selected)}: ${selectedHint}`);
    }
  }

  function remove(i) {
    if (!m.enabled || i < 0 || i >= m.items.length) return;
    const [gone] = m.items.splice(i, 1);
    m.selected = -1;
    paint();
    onStatus(`Removed ${said(gone, i)}.`);
  }

  function label(index) {
    if (index < 0 || index >= keys.length) return false;
    m.current = index;
    if (m.selected >= 0) {
      m.items[m.selected].label = keys[index];
      paint();
      onStatus(`${Noun} ${m.selected + 1} is now ${keys[index]}.`);
    } else {
      if (relabelRepaints) paint();
      else paintButtons();
      onStatus(`The next ${noun} will be ${keys[index]}.`);
    }
    return true;
  }

  // Tab, Delete, Esc and the label keys; `frame` is the media's focusable frame.
  function key(event, frame) {
    if (event.key === "Tab") {
      if (document.activeElement !== frame || !m.items.length) return false;
      const next = event.shiftKey ? (m.selected < 0 ? m.items.length - 1 : m.selected - 1) : m.selected + 1;
      if (next < 0 || next >= m.items.length) {
        select(-1, true);
        return false; // leave the frame as Tab always does
      }
      select(next);
      return true;
    }
    if (event.key === "Delete" || event.key === "Backspace") {
      if (m.selected < 0) {
        onStatus(m.items.length ? selectHint : `No ${noun} to remove.`, true);
        return true;
      }
      remove(m.selected);
      return true;
    }
    if (event.key === "Escape") {
      if (m.selected < 0) return false;
      select(-1, true);
      onStatus(`No ${noun} selected.`);
      return true;
    }
    if (event.key.length !== 1 || event.key === " ") return false;
    return label(keys.length ? (spec.shortcuts || []).indexOf(event.key.toLowerCase()) : -1);
  }

  buttons.forEach((b, i) => {
    b.addEventListener("mousedown", (event) => event.preventDefault()); // Enter still submits
    b.addEventListener("click", () => {
      if (m.enabled) label(i);
    });
  });

  return m;
}
