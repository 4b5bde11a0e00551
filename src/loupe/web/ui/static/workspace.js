// The annotator workspace: keyboard-first labelling over the JSON API.
// 1..9, 0 choose a label · Enter submits · S skips · U undoes · G guidelines · ? shortcuts
import { call } from "./api.js";

const config = JSON.parse(document.getElementById("workspace-config").textContent);
const project = config.project;
const $ = (id) => document.getElementById(id);
const options = [...document.querySelectorAll(".option")];

// performance.now() from the keystroke to the next item on screen, per submit/skip
// (read by the browser tests; see docs/ui.md).
window.loupeTimings = [];

const state = {
  task: null,
  shownAt: 0,
  chosen: new Set(),
  history: [], // [{task, answer, at}] submissions that may still be undone
  busy: false,
};

function setStatus(text, bad = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("bad", bad);
}

function render(task, found) {
  state.task = task;
  state.chosen.clear();
  const itemEl = $("item");
  $("item-empty").hidden = Boolean(task);
  itemEl.hidden = !task;
  for (const b of options) {
    b.setAttribute("aria-pressed", "false");
    b.classList.remove("suggested");
    b.disabled = !task;
  }
  $("submit").disabled = !task;
  $("skip").disabled = !task;
  $("prediction").hidden = true;
  $("gold").hidden = true;
  if (!task) {
    itemEl.dataset.itemId = "";
    return;
  }
  itemEl.dataset.itemId = String(task.item_id);
  const data = task.data || {};
  const text = data[config.textField];
  $("item-text").textContent = text === undefined ? JSON.stringify(data) : String(text);
  $("item-ref").textContent = `#${task.item_id}`;
  $("item-lang").textContent = task.language ? `· ${task.language}` : "";
  const fields = $("item-fields");
  fields.replaceChildren();
  for (const [key, value] of Object.entries(data)) {
    if (key === config.textField) continue;
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
    fields.append(dt, dd);
  }
  const prediction = found?.prediction;
  if (prediction) {
    const labels = Array.isArray(prediction.label) ? prediction.label : [prediction.label];
    $("prediction-label").textContent = labels.join(", ");
    $("prediction-score").textContent =
      prediction.score == null ? "" : `(${Math.round(prediction.score * 100)} %)`;
    $("prediction").hidden = false;
    for (const b of options) if (labels.includes(b.dataset.key)) b.classList.add("suggested");
  }
  // Gold items look like any other until answered (feedback comes with the submit).
  state.shownAt = performance.now();
}

function choose(index) {
  const button = options[index];
  if (!button || !state.task) return;
  const key = button.dataset.key;
  if (config.multi) {
    if (state.chosen.has(key)) state.chosen.delete(key);
    else state.chosen.add(key);
  } else {
    state.chosen.clear();
    state.chosen.add(key);
  }
  for (const b of options) {
    b.setAttribute("aria-pressed", String(state.chosen.has(b.dataset.key)));
  }
}

function bumpTally(delta) {
  const el = $("tally-labels");
  el.textContent = String(Math.max(0, Number(el.textContent) + delta));
}

async function refreshEarnings() {
  try {
    const tally = await call("GET", `/projects/${project}/work/today`);
    const parts = Object.entries(tally.earnings).map(
      ([currency, minor]) => ` · earned ${(minor / 100).toFixed(2)} ${currency}`,
    );
    $("tally-earnings").textContent = parts.join("");
    $("tally-labels").textContent = String(tally.labels);
  } catch {
    /* the tally is a convenience; labelling goes on */
  }
}

async function loadNext() {
  const found = await call("POST", `/projects/${project}/work/next`);
  render(found.task, found);
  return found;
}

function measure(started) {
  window.loupeTimings.push(performance.now() - started);
}

function updateUndo() {
  const last = state.history.at(-1);
  const fresh = last && Date.now() - last.at < config.graceSeconds * 1000;
  $("undo").disabled = !fresh;
}

async function guarded(action) {
  if (state.busy) return;
  state.busy = true;
  try {
    await action();
  } catch (error) {
    setStatus(error.message || String(error), true);
  } finally {
    state.busy = false;
    updateUndo();
  }
}

function submit(started = performance.now()) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    if (!state.chosen.size && !config.multi) {
      setStatus("Choose a label first (keys 1–9, 0).", true);
      return;
    }
    const answer = config.multi ? [...state.chosen] : [...state.chosen][0];
    const lead = Math.round(performance.now() - state.shownAt);
    const saved = await call("POST", `/api/v1/projects/${project}/items/${task.item_id}/labels`, {
      answer,
      lead_time_ms: lead,
    });
    state.history.push({ task, answer, at: Date.now() });
    state.history = state.history.slice(-20);
    bumpTally(1);
    await loadNext();
    measure(started);
    setStatus(`Saved “${Array.isArray(answer) ? answer.join(", ") : answer}”. Press U to undo.`);
    const gold = saved && saved.gold;
    if (gold) {
      const expected = gold.expected == null ? "" : ` The expected answer was “${gold.expected}”.`;
      $("gold").textContent = gold.correct
        ? "That was a gold check: correct."
        : `That was a gold check: not the expected answer.${expected}`;
      $("gold").hidden = false;
    }
    refreshEarnings();
  });
}

function skip(started = performance.now()) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    await call("POST", `/api/v1/projects/${project}/tasks/${task.item_id}/skip`);
    await loadNext();
    measure(started);
    setStatus("Skipped.");
  });
}

function undo() {
  return guarded(async () => {
    const last = state.history.at(-1);
    if (!last) {
      setStatus("Nothing to undo.", true);
      return;
    }
    await call("DELETE", `/api/v1/projects/${project}/items/${last.task.item_id}/labels/mine`);
    state.history.pop();
    bumpTally(-1);
    // The item is leased to us again: label it anew, with the old answer preselected.
    render(last.task, null);
    const keys = Array.isArray(last.answer) ? last.answer : [last.answer];
    options.forEach((b, i) => {
      if (keys.includes(b.dataset.key)) choose(i);
    });
    setStatus("Undone: label this item again.");
    refreshEarnings();
  });
}

function toggleGuidelines() {
  const panel = $("guidelines");
  panel.hidden = !panel.hidden;
  $("show-guidelines").setAttribute("aria-expanded", String(!panel.hidden));
}

function showHelp() {
  const dialog = $("help");
  if (!dialog.open) dialog.showModal();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if ($("help").open) return; // the dialog handles Esc itself
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
  const started = performance.now();
  const key = event.key;
  if (/^[0-9]$/.test(key)) {
    choose(key === "0" ? 9 : Number(key) - 1);
  } else if (key === "Enter") {
    // Enter on a focused button other than Submit would also click it: we handle it here.
    if (target instanceof HTMLButtonElement && target.id !== "submit" && !target.classList.contains("option")) return;
    submit(started);
  } else if (key === "s" || key === "S") {
    skip(started);
  } else if (key === "u" || key === "U") {
    undo();
  } else if (key === "g" || key === "G") {
    toggleGuidelines();
  } else if (key === "?") {
    showHelp();
  } else {
    return;
  }
  event.preventDefault();
});

options.forEach((button, i) => button.addEventListener("click", () => choose(i)));
$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
$("skip").addEventListener("click", () => skip());
$("undo").addEventListener("click", () => undo());
$("show-guidelines").addEventListener("click", toggleGuidelines);
$("show-help").addEventListener("click", showHelp);
setInterval(updateUndo, 1000);

guarded(loadNext);
