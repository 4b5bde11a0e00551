// Images on every page that shows an item (workspace, review, expert queue, item page).
//
// An item payload carries `media: [{field, kind, url, sha256, mime, width, height,
// regions}]`: the SERVED image (after the privacy gate) at `url`, never an original.
// This module only ever loads those urls.
//
//   renderMedia(host, media)     one viewer per image in `host` (replacing what was there)
//   mediaViewer(field)           the viewer of `field` shown last (the boxes editor draws on it)
//   drawAnswers(field, answers)  others' boxes (one layer per answer, each its own colour)
//   boxesText(answer)            an answer of boxes in words
//
// A viewer fits the image to the width of its frame (at most 75 % of the window's
// height), zooms with + / − (buttons, keys + = −) and the mouse wheel around the pointer,
// and pans by dragging once zoomed (in the boxes editor, where a drag draws, with the
// middle button or Space held) or with the scrollbars. Overlays sit on the image in
// percentages of its size, so they follow every zoom; they are in IMAGE pixels:
// viewer.toImage(clientX, clientY) converts the pointer through the current zoom.
//
// The gate's regions (what it pixelated: FACE, LICENSE_PLATE, CREDIT_CARD...) are drawn
// dashed; "Regions" hides or shows them. Elements with `data-media-json` (the item page,
// rendered on the server) are turned into viewers when this module loads (mounts.js, as
// player.js does for audio).
import { answerLayer, drawOthers, el, forgetGone, mountStatic, shownWidget, tag, typing } from "./mounts.js";

const SERVED = "/api/v1/media/"; // media_views.MEDIA_PATH: the gated bytes
const MAX_ZOOM = 16;
const STEP = 1.25;
const shown = new Map(); // field -> the viewer shown last
let active = null; // the viewer the zoom keys act on: last used, else the first on the page

const round = (v) => Math.round(v);

export function boxesText(answer) {
  if (!Array.isArray(answer) || !answer.length) return "(no boxes)";
  return answer
    .map((b) => `${b.label} ${round(b.w)}×${round(b.h)} at (${round(b.x)}, ${round(b.y)})`)
    .join("; ");
}

// Place `node` over the image at the box (image pixels) in percentages of the image.
export function place(node, box, width, height) {
  node.style.left = `${(100 * box.x) / width}%`;
  node.style.top = `${(100 * box.y) / height}%`;
  node.style.width = `${(100 * box.w) / width}%`;
  node.style.height = `${(100 * box.h) / height}%`;
}

let keysInstalled = false;

// + = − zoom the active viewer, wherever the keyboard is (not while typing, nor with a
// dialog open, nor with Ctrl, Cmd or Alt: those are the browser's own zoom).
function installKeys() {
  if (keysInstalled) return;
  keysInstalled = true;
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    const viewer = active?.connected() ? active : [...shown.values()].find((v) => v.connected());
    if (!viewer) return;
    if (event.key === "+" || event.key === "=") viewer.zoomBy(STEP);
    else if (event.key === "-" || event.key === "_") viewer.zoomBy(1 / STEP);
    else return;
    event.preventDefault();
  });
}

// A viewer for one media entry. Returns {figure, viewport, stage, entry, width, height,
// layer(name), toImage(x, y), visible(), zoomBy(f), fit(), scale(), onZoom(fn), connected()}.
export function createViewer(entry, { caption = "" } = {}) {
  installKeys();
  const width = Number(entry.width) || 0;
  const height = Number(entry.height) || 0;
  const figure = el("figure", "media-viewer", { "data-field": entry.field ?? "", "data-sha256": entry.sha256 ?? "" });
  const tools = el("div", "mv-tools", { role: "toolbar", "aria-label": `Zoom the ${entry.field || "image"}` });
  const out = el("button", "mv-zoom-out", { type: "button", "aria-label": "Zoom out", "aria-keyshortcuts": "-" });
  out.textContent = "−";
  const fitButton = el("button", "mv-fit", { type: "button", "aria-label": "Fit to width" });
  fitButton.textContent = "Fit";
  const into = el("button", "mv-zoom-in", { type: "button", "aria-label": "Zoom in", "aria-keyshortcuts": "+" });
  into.textContent = "+";
  const level = el("output", "mv-level", { "aria-live": "polite", "aria-label": "Zoom" });
  const regionsToggle = el("button", "mv-regions-toggle", { type: "button", "aria-pressed": "true" });
  regionsToggle.textContent = "Regions";
  const regions = Array.isArray(entry.regions) ? entry.regions : [];
  regionsToggle.hidden = !regions.length;
  regionsToggle.title = "Show or hide what the privacy gate pixelated";
  tools.append(out, fitButton, into, level, regionsToggle);

  const viewport = el("div", "mv-viewport", {
    tabindex: "0",
    role: "group",
    "aria-roledescription": "image viewer",
    "aria-label": `${entry.field || "image"}${width ? `, ${width} × ${height} pixels` : ""}${caption ? `: ${caption}` : ""}`,
  });
  const stage = el("div", "mv-stage");
  // The url is the served (gated) image; alt stays short: the regions and boxes are
  // listed in words beside it.
  const img = el("img", "mv-image", { alt: `${entry.field || "image"} of the item`, draggable: "false" });
  img.src = entry.url;
  if (width) {
    img.width = width;
    img.height = height;
  }
  const regionLayer = el("div", "mv-layer mv-regions", { "aria-hidden": "true" });
  stage.append(img, regionLayer);
  viewport.append(stage);
  const notes = el("figcaption", "mv-caption hint");
  figure.append(tools, viewport, notes);

  const layers = new Map([["regions", regionLayer]]);
  const listeners = [];
  let fitScale = 1;
  let zoom = 1;
  let fitted = false;
  let dims = { width, height };

  function layer(name) {
    if (!layers.has(name)) {
      const node = el("div", `mv-layer mv-layer-${name}`);
      stage.append(node);
      layers.set(name, node);
    }
    return layers.get(name);
  }

  function scale() {
    return fitScale * zoom;
  }

  function size() {
    const s = scale();
    stage.style.width = `${dims.width * s}px`;
    stage.style.height = `${dims.height * s}px`;
    level.textContent = `${Math.round(s * 100)} %`;
    out.disabled = zoom <= 1;
    into.disabled = zoom >= MAX_ZOOM;
    for (const fn of listeners) fn(s);
  }

  function measure() {
    if (!dims.width || !dims.height) return false;
    const frame = viewport.clientWidth || figure.clientWidth;
    if (!frame) return false;
    const tallest = Math.max(window.innerHeight * 0.75, 120);
    fitScale = Math.min(frame / dims.width, tallest / dims.height);
    fitted = true;
    return true;
  }

  // Zoom by `factor`, keeping the image point under (cx, cy) (default: the frame's
  // centre) where it is on screen.
  function zoomBy(factor, cx, cy) {
    if (!fitted && !measure()) return false;
    const next = Math.min(Math.max(zoom * factor, 1), MAX_ZOOM);
    if (next === zoom) return false;
    const frame = viewport.getBoundingClientRect();
    const x = cx ?? frame.left + frame.width / 2;
    const y = cy ?? frame.top + frame.height / 2;
    const point = toImage(x, y);
    zoom = next;
    size();
    const after = stage.getBoundingClientRect();
    const s = scale();
    viewport.scrollLeft += after.left + point.x * s - x;
    viewport.scrollTop += after.top + point.y * s - y;
    active = viewer;
    return true;
  }

  function fit() {
    zoom = 1;
    if (measure()) size();
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
  }

  // Client coordinates to image pixels, through the current zoom (not clamped).
  function toImage(clientX, clientY) {
    const r = stage.getBoundingClientRect();
    return {
      x: r.width ? ((clientX - r.left) * dims.width) / r.width : 0,
      y: r.height ? ((clientY - r.top) * dims.height) / r.height : 0,
    };
  }

  // The part of the image in sight, in image pixels.
  function visible() {
    const r = stage.getBoundingClientRect();
    const f = viewport.getBoundingClientRect();
    const a = toImage(Math.max(r.left, f.left), Math.max(r.top, f.top));
    const b = toImage(Math.min(r.right, f.right), Math.min(r.bottom, f.bottom));
    return { x: a.x, y: a.y, w: Math.max(b.x - a.x, 0), h: Math.max(b.y - a.y, 0) };
  }

  function drawRegions() {
    regionLayer.replaceChildren();
    for (const region of regions) {
      const box = el("div", "mv-region");
      place(box, { x: region.x, y: region.y, w: region.width, h: region.height }, dims.width, dims.height);
      const tag = el("span", "mv-tag");
      tag.textContent = String(region.type || "region").toLowerCase().replaceAll("_", " ");
      box.append(tag);
      regionLayer.append(box);
    }
    const kinds = [...new Set(regions.map((r) => String(r.type || "region").toLowerCase().replaceAll("_", " ")))];
    notes.textContent = regions.length
      ? `The privacy gate pixelated ${regions.length} region${regions.length === 1 ? "" : "s"} (${kinds.join(", ")}); dashed outlines show where.`
      : "";
  }

  // Drag to pan once zoomed: the primary button in a viewer nothing edits; the middle
  // button, or Space held, where a drag draws (the boxes editor sets `editing`).
  let space = false;
  let pan = null;
  viewport.addEventListener("keydown", (event) => {
    if (event.key === " " && viewer.editing) {
      space = true;
      event.preventDefault();
    }
  });
  viewport.addEventListener("keyup", (event) => {
    if (event.key === " ") space = false;
  });
  viewport.addEventListener(
    "pointerdown",
    (event) => {
      active = viewer;
      const wants = event.button === 1 || (event.button === 0 && (!viewer.editing || space));
      if (!wants || zoom <= 1) return;
      event.preventDefault();
      event.stopPropagation(); // not a box being drawn
      pan = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
      viewport.setPointerCapture(event.pointerId);
      viewport.classList.add("panning");
    },
    true,
  );
  viewport.addEventListener("pointermove", (event) => {
    if (!pan) return;
    viewport.scrollLeft = pan.left - (event.clientX - pan.x);
    viewport.scrollTop = pan.top - (event.clientY - pan.y);
  });
  const endPan = () => {
    pan = null;
    viewport.classList.remove("panning");
  };
  viewport.addEventListener("pointerup", endPan);
  viewport.addEventListener("pointercancel", endPan);
  viewport.addEventListener(
    "wheel",
    (event) => {
      if (event.ctrlKey || !event.deltaY) return;
      // At the ends of the zoom the wheel scrolls the page as usual.
      if (zoomBy(event.deltaY < 0 ? STEP : 1 / STEP, event.clientX, event.clientY)) event.preventDefault();
    },
    { passive: false },
  );
  viewport.addEventListener("focus", () => {
    active = viewer;
  });
  out.addEventListener("click", () => zoomBy(1 / STEP));
  into.addEventListener("click", () => zoomBy(STEP));
  fitButton.addEventListener("click", fit);
  regionsToggle.addEventListener("click", () => {
    const on = regionsToggle.getAttribute("aria-pressed") !== "true";
    regionsToggle.setAttribute("aria-pressed", String(on));
    regionLayer.hidden = !on;
  });
  for (const b of [out, fitButton, into, regionsToggle]) {
    b.addEventListener("mousedown", (event) => event.preventDefault()); // Enter still submits
  }

  // Fit once laid out, and again when the frame's width changes (unless zoomed in).
  const resized = new ResizeObserver(() => {
    const before = fitScale;
    if (measure() && (zoom === 1 || before !== fitScale)) size();
  });
  resized.observe(viewport);
  img.addEventListener("load", () => {
    if (!dims.width || !dims.height) {
      dims = { width: img.naturalWidth, height: img.naturalHeight };
      viewer.width = dims.width;
      viewer.height = dims.height;
      drawRegions();
    }
    if (measure()) size();
    figure.dataset.loaded = "true";
  });

  const viewer = {
    figure,
    viewport,
    stage,
    image: img,
    entry,
    width: dims.width,
    height: dims.height,
    editing: false,
    layer,
    clear(prefix) {
      for (const [name, node] of layers) if (name !== "regions" && name.startsWith(prefix)) node.replaceChildren();
    },
    toImage,
    visible,
    zoomBy,
    fit,
    scale,
    ready: () => fitted,
    onZoom: (fn) => listeners.push(fn),
    connected: () => figure.isConnected,
  };
  drawRegions();
  return viewer;
}

// One viewer per image of `media` in `host` (its other content replaced). An item with no
// images leaves `host` empty and hidden.
export function renderMedia(host, media, { caption = "" } = {}) {
  if (!host) return [];
  host.replaceChildren();
  // Only served blobs: a url anywhere else (an original, another site) is never loaded.
  const images = (Array.isArray(media) ? media : []).filter(
    (m) => m && typeof m.url === "string" && m.url.startsWith(SERVED) && (m.kind ?? "image") === "image",
  );
  host.hidden = !images.length;
  const viewers = images.map((entry) => {
    const viewer = createViewer(entry, { caption });
    host.append(viewer.figure);
    shown.set(entry.field, viewer);
    return viewer;
  });
  forgetGone(shown);
  active = viewers[0] ?? null;
  return viewers;
}

export function mediaViewer(field) {
  return shownWidget(shown, field);
}

// Read-only boxes over the image: one layer per answer (another annotator, the crowd, the
// consensus), each in its own colour, with its label on each box.
export function drawBoxes(viewer, name, boxes, { className = "", title = "" } = {}) {
  const target = answerLayer(viewer, name, "mv-layer", className);
  for (const b of Array.isArray(boxes) ? boxes : []) {
    if (!b || typeof b !== "object") continue;
    const node = el("div", "mv-box");
    place(node, b, viewer.width, viewer.height);
    tag(node, "mv-tag", b.label, title);
    target.append(node);
  }
  return target;
}

export function drawAnswers(field, answers, { prefix = "answer" } = {}) {
  drawOthers(mediaViewer(field), answers, drawBoxes, { prefix, colours: (n) => `mv-others mv-c${n % 6}` });
}

// Server-rendered figures (the item page): <div data-media-json='{...entry}'
// data-boxes-json='[{"name","title","boxes"}]'> becomes a viewer with those layers.
mountStatic("media", "boxes", renderMedia, drawBoxes, (i) => `mv-others mv-c${i % 6}`);
