// The annotator workspace: keyboard-first labelling over the JSON API.
// 1..9, 0, then letters choose (toggle, tag) · / finds a label by name · A takes the
// model's suggestion · Enter submits (free text: Ctrl+Enter) · S skips · U undoes
// F flags for an expert · G guidelines · ? shortcuts · spans: ← → select words,
// Backspace removes the last span
import { call } from "./api.js";
import { answerText, createEditor } from "./editors.js";
import { asText, renderItem } from "./item.js";
import { installShortcuts } from "./shortcuts.js";
import { oneAtATime, pendingState, setStatus, showNextFailed } from "./status.js";

const config = JSON.parse(document.getElementById("workspace-config").textContent);
const project = config.project;
const spec = config.editor;
const $ = (id) => document.getElementById(id);

// performance.now() from the keystroke to the next item on screen, per submit/skip
// (read by the browser tests; see docs/ui.md).
window.loupeTimings = [];

const state = {
  task: null,
  shownAt: 0,
  history: [], // [{task, answer, at}] submissions that may still be undone
};

const editor = createEditor(spec, { onStatus: setStatus });

// Pairwise items may be shown with their outputs swapped (the server draws it per
// serving): the task keeps `swapped`, the page shows the swapped view, and answers are
// mapped back to the item's own A and B before they are sent (flip is its own inverse).
const FLIP = { a: "b", b: "a" };

function flip(task, answer) {
  return spec.type === "pairwise" && task?.swapped ? (FLIP[answer] ?? answer) : answer;
}

function view(task) {
  if (!task || spec.type !== "pairwise" || !task.swapped) return task;
  const data = { ...(task.data || {}) };
  [data[spec.aField], data[spec.bField]] = [data[spec.bField], data[spec.aField]];
  return { ...task, data };
}

function render(task, found) {
  if (task && found) task.swapped = Boolean(found.swapped);
  state.task = task;
  renderItem(spec, view(task));
  editor.enable(Boolean(task));
  for (const id of ["submit", "skip", "flag"]) $(id).disabled = !task;
  $("retry").hidden = true;
  $("prediction").hidden = true;
  if (!task) return;
  editor.load(view(task).data || {});
  const prediction = found?.prediction;
  if (prediction) {
    const shownLabel = flip(task, prediction.label);
    const labels = Array.isArray(shownLabel) ? shownLabel : [shownLabel];
    $("prediction-label").textContent = answerText(spec, shownLabel, task.data || {});
    $("prediction-score").textContent =
      prediction.score == null ? "" : `(${Math.round(prediction.score * 100)} %)`;
    $("prediction").hidden = false;
    editor.suggest(labels);
  }
  // Gold items look like any other until answered (feedback comes with the submit,
  // and is shown apart from this card: see showGold).
  state.shownAt = performance.now();
  if (spec.type === "free_text") editor.focus();
}

// Feedback on a gold item, shown on that item (its text, the given and expected
// answers), never inside the next item's card.
function showGold(task, answer, gold) {
  const data = task.data || {};
  const key = spec.type === "pairwise" ? spec.promptField ?? spec.textField : spec.textField;
  $("gold").dataset.itemId = String(task.item_id);
  $("gold-item").textContent = data[key] === undefined ? JSON.stringify(data) : asText(data[key]);
  $("gold-verdict").textContent = gold.correct ? "correct" : "not the expected answer";
  $("gold-given").textContent = answerText(spec, flip(task, answer), data);
  const expected = !gold.correct && gold.expected != null;
  $("gold-expected").textContent = expected ? answerText(spec, flip(task, gold.expected), data) : "";
  $("gold-expected-line").hidden = !expected;
  $("gold").hidden = false;
}

function hideGold() {
  $("gold").hidden = true;
  $("gold").dataset.itemId = "";
}

function bumpTally(delta) {
  const el = $("tally-labels");
  el.textContent = String(Math.max(0, Number(el.textContent) + delta));
}

let tallyAsked = 0;

async function refreshEarnings() {
  const asked = ++tallyAsked;
  try {
    const tally = await call("GET", `/projects/${project}/work/today`);
    if (asked !== tallyAsked) return; // a later refresh is under way: its answer is newer
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

const guarded = oneAtATime(updateUndo);

// While a request is in flight the answer cannot change: the widgets and buttons are
// disabled (visibly), so nothing typed meanwhile is silently dropped or sent late.
const setPending = pendingState("answer-form", (pending) => {
  editor.enable(!pending && Boolean(state.task));
  for (const id of ["submit", "skip", "flag"]) $(id).disabled = pending || !state.task;
});

// The label is saved but the next item did not come: say which step failed, and offer
// to load the next item again (the saved item cannot be submitted twice).
function nextFailed(done, error) {
  state.task = null;
  setPending("");
  showNextFailed(done, error);
}

function retryNext() {
  return guarded(async () => {
    setPending("Loading the next item…");
    try {
      await loadNext();
    } catch (error) {
      nextFailed("", error);
      return;
    }
    setStatus("");
  });
}

function submit(started = performance.now()) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    const given = editor.value();
    if (given.error) {
      setStatus(given.error, true);
      return;
    }
    const answer = flip(task, given.answer);
    hideGold();
    const lead = Math.round(performance.now() - state.shownAt);
    setPending("Saving…");
    let saved;
    try {
      saved = await call("POST", `/api/v1/projects/${project}/items/${task.item_id}/labels`, {
        answer,
        lead_time_ms: lead,
      });
    } catch (error) {
      setPending("");
      setStatus(`Not saved (${error.message || error}): your answer is still here; submit again.`, true);
      return;
    }
    state.history.push({ task, answer, at: Date.now() });
    state.history = state.history.slice(-20);
    bumpTally(1);
    const said = answerText(spec, flip(task, answer), task.data || {});
    const done = `Saved “${said.length > 80 ? `${said.slice(0, 77)}…` : said}”.`;
    if (saved && saved.gold) showGold(task, answer, saved.gold);
    refreshEarnings();
    try {
      await loadNext();
    } catch (error) {
      nextFailed(done, error);
      return;
    }
    setPending("");
    measure(started);
    setStatus(`${done} Press U to undo.`);
  });
}

function skip(started = performance.now()) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    hideGold();
    setPending("Skipping…");
    try {
      await call("POST", `/api/v1/projects/${project}/tasks/${task.item_id}/skip`);
    } catch (error) {
      setPending("");
      setStatus(`Not skipped (${error.message || error}).`, true);
      return;
    }
    try {
      await loadNext();
    } catch (error) {
      nextFailed("Skipped.", error);
      return;
    }
    setPending("");
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
    hideGold();
    state.history.pop();
    bumpTally(-1);
    // The item is leased to us again: label it anew, with the old answer preselected.
    render(last.task, null);
    editor.set(flip(last.task, last.answer));
    setStatus("Undone: label this item again.");
    refreshEarnings();
  });
}

// A: the model's suggestion becomes the answer (Enter then submits it). Every item that
// shows a suggestion takes it the same way, gold items included.
function takeSuggestion() {
  if (!state.task || $("prediction").hidden) {
    setStatus("No model suggestion for this item.", true);
    return;
  }
  if (!editor.takeSuggestion()) {
    setStatus("The suggestion cannot be taken here: answer with the keys.", true);
    return;
  }
  setStatus(`Took the model's suggestion: ${$("prediction-label").textContent}. Enter submits.`);
}

function openFlag() {
  if (!state.task) return;
  $("flag-dialog-reason").value = "";
  $("flag-dialog").showModal();
}

function flag(reason) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    await call("POST", `/api/v1/projects/${project}/items/${task.item_id}/flag`, { reason });
    await loadNext();
    setStatus(`Item ${task.ref ?? `#${task.item_id}`} was sent to an expert.`);
  });
}

installShortcuts({ editor, submit, keys: { a: takeSuggestion, s: skip, u: undo, f: openFlag } });

$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
$("skip").addEventListener("click", () => skip());
$("undo").addEventListener("click", () => undo());
$("flag").addEventListener("click", openFlag);
$("take-suggestion").addEventListener("mousedown", (event) => event.preventDefault()); // Enter still submits
$("take-suggestion").addEventListener("click", () => takeSuggestion());
$("flag-dialog-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = $("flag-dialog-reason").value.trim();
  if (!reason) return;
  $("flag-dialog").close();
  flag(reason);
});
$("flag-dialog-cancel").addEventListener("click", () => $("flag-dialog").close());
$("retry").addEventListener("click", () => retryNext());
setInterval(updateUndo, 1000);

guarded(async () => {
  try {
    await loadNext();
  } catch (error) {
    nextFailed("", error);
  }
});
