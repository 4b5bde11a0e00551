// The item card every work page shares (templates/_editor.html): the item as the
// privacy gate left it — its text, language, domain and other fields, and its images
// (the served, gated ones: media.js) and audio (player.js; withheld without a voice
// clearance).
import { renderMedia } from "./media.js";
import { renderAudio } from "./player.js";

const $ = (id) => document.getElementById(id);

export function asText(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// Scripts written right to left: by the item's stored language (its primary subtag),
// else the browser decides from the text itself (dir="auto").
const RTL = new Set(["ar", "he", "iw", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"]);

export function direction(language) {
  const primary = String(language || "").toLowerCase().split(/[-_]/)[0];
  return RTL.has(primary) ? "rtl" : "auto";
}

// Give `el` the item's direction and language (no lang when none is stored).
export function setLanguage(el, language) {
  if (!el) return;
  el.dir = direction(language);
  if (language) el.lang = language;
  else el.removeAttribute("lang");
}

// Fill the card for `item` ({item_id, data, language, domain}); null shows the empty message.
export function renderItem(spec, item) {
  const itemEl = $("item");
  $("item-empty").hidden = Boolean(item);
  itemEl.hidden = !item;
  if (!item) {
    itemEl.dataset.itemId = "";
    renderMedia($("item-media"), []);
    renderAudio($("item-media"), []);
    return;
  }
  itemEl.dataset.itemId = String(item.item_id);
  const data = item.data || {};
  const textEl = $("item-text");
  const key = spec.type === "pairwise" ? spec.promptField ?? spec.textField : spec.textField;
  const text = data[key];
  if (spec.type === "pairwise") {
    textEl.textContent = asText(text);
    textEl.hidden = text === undefined;
    const title = $("item-text-title");
    if (title) title.hidden = text === undefined;
  } else {
    // An image alone is an item: no text to show then, rather than its empty data.
    const imageOnly = text === undefined && Array.isArray(item.media) && item.media.length > 0;
    textEl.textContent = text === undefined ? (imageOnly ? "" : JSON.stringify(data)) : asText(text);
    textEl.hidden = imageOnly;
  }
  for (const id of ["item-text", "pair-a", "pair-b", "item-source"]) {
    setLanguage($(id), item.language);
  }
  const source = $("item-source");
  if (source && spec.sourceField) source.textContent = asText(data[spec.sourceField]);
  $("item-ref").textContent = item.ref ?? `#${item.item_id}`;
  $("item-lang").textContent = item.language ? `· ${item.language}` : "";
  $("item-domain").textContent = item.domain && item.domain !== "general" ? `· ${item.domain}` : "";
  const fields = $("item-fields");
  fields.replaceChildren();
  const shown = new Set([key, spec.textField, ...(spec.shownFields || [])]);
  for (const [name, value] of Object.entries(data)) {
    if (shown.has(name)) continue;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = asText(value);
    setLanguage(dd, item.language);
    fields.append(dt, dd);
  }
  renderMedia($("item-media"), item.media);
  renderAudio($("item-media"), item.media); // players (or the voice notice) after the images
}
