// How a widget is mounted on an item's media entry, the same for images (media.js: a
// zoomable viewer) and audio (player.js: a player with a waveform):
//
//   shownWidget(shown, field)    the widget of `field` shown last, if still on the page
//   forgetGone(shown)            forget the widgets taken out of the page
//   answerLayer(widget, name, base, className)  an empty read-only layer over a widget
//   tag(node, className, label, title)           the label written on a drawn mark
//   drawOthers(widget, answers, draw, options)   others' answers, one layer per answer
//   mountStatic(kind, marks, render, draw, colours)  server-rendered widgets (item page)
//   el(tagName, className, attrs)                a new element, to build a widget with
//   typing(target)               whether a key goes to a text box (a widget's keys do not)
//
// A widget has `connected()`, `layer(name)` and `clear(prefix)`; `shown` is a Map from
// media field to the widget shown last.

export function el(tagName, className, attrs = {}) {
  const node = document.createElement(tagName);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export function typing(target) {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}

export function shownWidget(shown, field) {
  const widget = shown.get(field);
  return widget && widget.connected() ? widget : null;
}

export function forgetGone(shown) {
  for (const [field, widget] of shown) if (!widget.connected()) shown.delete(field);
}

// The layer `name` of `widget`, emptied: class `${base} ${base}-${name} ${className}`,
// hidden from screen readers (the answers are in words elsewhere).
export function answerLayer(widget, name, base, className) {
  const target = widget.layer(name);
  target.replaceChildren();
  target.className = `${base} ${base}-${name} ${className}`.trim();
  target.setAttribute("aria-hidden", "true");
  return target;
}

export function tag(node, className, label, title) {
  const span = el("span", className);
  span.textContent = title ? `${label} · ${title}` : String(label);
  node.append(span);
}

// Others' answers over `widget`: `draw(widget, "others-<i>", answer, {className, title})`
// per answer, in colour `colours(i + 1)`, titled "<prefix> <i + 1>".
export function drawOthers(widget, answers, draw, { prefix, colours }) {
  if (!widget) return;
  widget.clear("others-");
  (answers || []).forEach((answer, i) => {
    draw(widget, `others-${i}`, answer, { className: colours(i + 1), title: `${prefix} ${i + 1}` });
  });
}

// Server-rendered widgets (the item page): <div data-<kind>-json='{...entry}'
// data-<marks>-json='[{"title", "<marks>": [...]}]'> becomes `render(host, [entry])`'s
// widget with each set drawn as layer "set-<i>" in colour `colours(i)`.
export function mountStatic(kind, marks, render, draw, colours) {
  for (const host of document.querySelectorAll(`[data-${kind}-json]`)) {
    let entry;
    let sets = [];
    try {
      entry = JSON.parse(host.dataset[`${kind}Json`]);
      sets = JSON.parse(host.dataset[`${marks}Json`] || "[]");
    } catch {
      continue;
    }
    const [widget] = render(host, [entry]);
    if (!widget) continue;
    sets.forEach((set, i) => draw(widget, `set-${i}`, set[marks], { className: colours(i), title: set.title || "" }));
  }
}
