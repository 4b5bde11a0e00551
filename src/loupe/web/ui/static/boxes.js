// The bounding-box editor (task type "boxes"): boxes with a label each, drawn on the
// item's served image (media.js) in IMAGE pixels, whatever the zoom.
//
// Mouse: drag on the image draws a box; a click selects one; dragging a box moves it;
// its corner handles resize it; (zoomed in) the middle button or Space+drag pans.
// Keyboard (the image frame, or anywhere on the page once a box is selected):
//   1..9, 0, letters  the label of the selected box, or of the next box drawn
//   N                 a new box in the middle of what is in sight (then arrows move it)
//   ← ↑ → ↓           move the selected box by 1 px (Shift: 10 px)
//   Shift+Alt+arrows  resize it: → ↓ grow, ← ↑ shrink its width / height by 1 px
//   Tab, Shift+Tab    (in the image frame) select the next / previous box; past the
//                     last one, Tab leaves the image as usual
//   Delete, Backspace remove the selected box
//   Esc               deselect
//   Enter             submit (the page's own submit)
// The list of boxes, the selection, and Tab, Delete, Esc and the label keys are
// marks.js's, as the segment editor's are.
// Same interface as the other editors (editors.js): load, set, value, key, suggest,
// takeSuggestion, enable, focus; `altKeys` asks shortcuts.js for Shift+Alt+arrows.
import { markEditor } from "./marks.js";
import { mediaViewer, place } from "./media.js";

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function isBox(b, keys) {
  return (
    b &&
    typeof b === "object" &&
    ["x", "y", "w", "h"].every((k) => Number.isFinite(Number(b[k]))) &&
    keys.includes(b.label)
  );
}

export function boxesEditor(spec, { onStatus = () => {} } = {}) {
  const minSize = Math.max(Number(spec.minSize) || 2, 1);
  const maxBoxes = Number(spec.maxBoxes) || 500;
  const keys = spec.keys || [];
  let viewer = null;
  let layer = null;
  let drag = null;

  const said = (b, i) => `box ${i + 1}, ${b.label}, ${b.w} × ${b.h} px at ${b.x}, ${b.y}`;
  const W = () => viewer?.width || 0;
  const H = () => viewer?.height || 0;
  // The boxes: {x, y, w, h, label} in image pixels, in the order drawn.
  const m = markEditor(spec, {
    noun: "box",
    colours: "bx-c",
    said,
    listed: (b) => `${b.label} · ${b.w} × ${b.h} px`,
    selectedHint: "arrows move it, Delete removes it, a label's key relabels it.",
    selectHint: "Select a box first (click it, or Tab in the image).",
    isMark: isBox,
    paintLayer,
    onStatus,
  });
  const { colour, paint, select } = m;

  function clampBox(b) {
    const w = Math.min(Math.max(Math.round(b.w), minSize), W());
    const h = Math.min(Math.max(Math.round(b.h), minSize), H());
    const x = Math.min(Math.max(Math.round(b.x), 0), W() - w);
    const y = Math.min(Math.max(Math.round(b.y), 0), H() - h);
    return { x, y, w, h, label: b.label };
  }

  function boxElement(b, i) {
    const node = document.createElement("div");
    node.className = `bx ${colour(b.label)}${i === m.selected ? " selected" : ""}`;
    node.dataset.index = String(i);
    place(node, b, W(), H());
    const tag = document.createElement("span");
    tag.className = "mv-tag";
    tag.textContent = `${i + 1} ${b.label}`;
    node.append(tag);
    if (i === m.selected && m.enabled) {
      for (const corner of ["nw", "ne", "sw", "se"]) {
        const handle = document.createElement("span");
        handle.className = `bx-handle bx-${corner}`;
        handle.dataset.corner = corner;
        node.append(handle);
      }
    }
    return node;
  }

  function paintLayer() {
    if (!layer) return;
    layer.replaceChildren(...m.items.map(boxElement));
    if (drag?.mode === "draw" && drag.box) {
      const draft = document.createElement("div");
      draft.className = `bx draft ${colour(keys[m.current])}`;
      place(draft, drag.box, W(), H());
      layer.append(draft);
    }
  }

  function add(b) {
    if (m.items.length >= maxBoxes) {
      onStatus(`At most ${maxBoxes} boxes per image.`, true);
      return false;
    }
    m.items.push(clampBox(b));
    select(m.items.length - 1, true);
    onStatus(`Added ${said(m.items[m.selected], m.selected)}.`);
    return true;
  }

  // A new box from the keyboard: a fifth of the image's shorter side (at least the
  // smallest size), centred on what is in sight.
  function addCentred() {
    const side = Math.max(Math.round(Math.min(W(), H()) / 5), minSize);
    const seen = viewer.visible();
    const cx = seen.w ? seen.x + seen.w / 2 : W() / 2;
    const cy = seen.h ? seen.y + seen.h / 2 : H() / 2;
    if (add({ x: cx - side / 2, y: cy - side / 2, w: side, h: side, label: keys[m.current] })) {
      onStatus(`Added ${said(m.items[m.selected], m.selected)}: arrows move it, Shift+Alt+arrows resize it.`);
    }
    viewer.viewport.focus({ preventScroll: true });
  }

  function nudge(dx, dy, resize) {
    const b = m.items[m.selected];
    const moved = resize
      ? clampBox({ ...b, w: b.w + dx, h: b.h + dy })
      : clampBox({ ...b, x: b.x + dx, y: b.y + dy });
    m.items[m.selected] = moved;
    paint();
    onStatus(said(moved, m.selected));
  }

  function point(event) {
    const p = viewer.toImage(event.clientX, event.clientY);
    return { x: Math.min(Math.max(p.x, 0), W()), y: Math.min(Math.max(p.y, 0), H()) };
  }

  function span(a, b) {
    const x = Math.round(Math.min(a.x, b.x));
    const y = Math.round(Math.min(a.y, b.y));
    return { x, y, w: Math.round(Math.max(a.x, b.x)) - x, h: Math.round(Math.max(a.y, b.y)) - y };
  }

  function down(event) {
    if (!m.enabled || event.button !== 0 || !W()) return;
    event.preventDefault();
    viewer.viewport.focus({ preventScroll: true });
    const p = point(event);
    const target = event.target instanceof Element ? event.target : null;
    const handle = target?.closest(".bx-handle");
    const hit = target?.closest(".bx:not(.draft)");
    if (handle && hit) {
      const i = Number(hit.dataset.index);
      drag = { mode: "resize", index: i, corner: handle.dataset.corner, orig: { ...m.items[i] }, moved: false };
    } else if (hit) {
      const i = Number(hit.dataset.index);
      drag = { mode: "move", index: i, start: p, orig: { ...m.items[i] }, moved: false };
      if (i !== m.selected) select(i);
    } else {
      drag = { mode: "draw", start: p, box: null, moved: false };
    }
    layer.setPointerCapture(event.pointerId);
  }

  function move(event) {
    if (!drag) return;
    const p = point(event);
    drag.moved = true;
    if (drag.mode === "draw") {
      drag.box = span(drag.start, p);
    } else if (drag.mode === "move") {
      const o = drag.orig;
      m.items[drag.index] = clampBox({ ...o, x: o.x + p.x - drag.start.x, y: o.y + p.y - drag.start.y });
    } else {
      const o = drag.orig;
      const fixed = {
        x: drag.corner.endsWith("w") ? o.x + o.w : o.x,
        y: drag.corner.startsWith("n") ? o.y + o.h : o.y,
      };
      const b = span(fixed, p);
      m.items[drag.index] = clampBox({ ...b, label: o.label });
    }
    paint();
  }

  function up() {
    if (!drag) return;
    const done = drag;
    drag = null;
    if (done.mode === "draw") {
      const b = done.box;
      if (b && b.w >= minSize && b.h >= minSize) {
        add({ ...b, label: keys[m.current] });
      } else {
        select(-1);
        onStatus("Drag on the image to draw a box (or press N).");
      }
    } else if (done.moved) {
      select(done.index, true);
      onStatus(said(m.items[done.index], done.index));
    } else {
      paint();
    }
  }

  function attach() {
    viewer = mediaViewer(spec.mediaField);
    layer = null;
    if (!viewer) return;
    viewer.editing = m.enabled;
    layer = viewer.layer("edit");
    layer.classList.add("mv-edit");
    layer.classList.toggle("editing", m.enabled);
    if (layer.dataset.bound) return; // the same image loaded again: its handlers are on
    layer.dataset.bound = "true";
    layer.addEventListener("pointerdown", down);
    layer.addEventListener("pointermove", move);
    layer.addEventListener("pointerup", up);
    layer.addEventListener("pointercancel", () => {
      drag = null;
      paint();
    });
    viewer.viewport.setAttribute(
      "aria-description",
      "Drag to draw a box; N adds one. Arrows move the selected box, Shift+Alt+arrows resize it, Tab goes to the next box, Delete removes it, a label's key relabels it.",
    );
    viewer.viewport.setAttribute("aria-describedby", "box-help");
  }

  return {
    altKeys: true,
    load() {
      m.clear();
      drag = null;
      attach();
      paint();
    },
    set(answer) {
      m.put(answer, (b) => ({ x: +b.x, y: +b.y, w: +b.w, h: +b.h, label: b.label }));
      paint();
    },
    suggest: m.suggest,
    takeSuggestion() {
      return m.takeSuggestion((answer) => this.set(answer));
    },
    value() {
      if (!viewer) return { error: "This item has no image to draw on." };
      return { answer: m.items.map(({ x, y, w, h, label: l }) => ({ x, y, w, h, label: l })) };
    },
    key(event) {
      if (!m.enabled || !viewer) return false;
      if (event.altKey) {
        const step = ARROWS[event.key];
        if (!step || !event.shiftKey || m.selected < 0) return false;
        nudge(step[0], step[1], true);
        return true;
      }
      const arrow = ARROWS[event.key];
      if (arrow) {
        if (m.selected < 0) return false;
        const n = event.shiftKey ? 10 : 1;
        nudge(arrow[0] * n, arrow[1] * n, false);
        return true;
      }
      if (event.key === "n" || event.key === "N") {
        addCentred();
        return true;
      }
      return m.key(event, viewer.viewport);
    },
    enable(on) {
      m.enable(on);
      if (viewer) viewer.editing = on;
      layer?.classList.toggle("editing", on);
      if (!on) drag = null;
      paint();
    },
    focus() {
      viewer?.viewport.focus({ preventScroll: true });
    },
  };
}
