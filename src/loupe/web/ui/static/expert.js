// The escalation ladder by keyboard: experts answer (Enter) or pass up (P, asks why);
// adjudicators answer (Enter) or look at the next item waiting (S). G guidelines · ? shortcuts.
// While an answer is being saved every control is disabled ("Saving…"); an answer saved
// when the next item fails to load says both, and #retry loads it again.
import { call } from "./api.js";
import { commentsPanel } from "./comments.js";
import { answerText, createEditor } from "./editors.js";
import { renderItem } from "./item.js";
import { drawAnswers } from "./media.js";
import { drawSegmentAnswers } from "./player.js";
import { installShortcuts } from "./shortcuts.js";
import {
  oneAtATime,
  pendingState,
  setStatus,
  showNextFailed,
  showNotice,
  showNotSaved,
} from "./status.js";

const config = JSON.parse(document.getElementById("expert-config").textContent);
const project = config.project;
const spec = config.editor;
const adjudicating = config.stage === "adjudicator";
const $ = (id) => document.getElementById(id);

const state = { task: null, done: 0, after: 0 };

const editor = createEditor(spec, { onStatus: setStatus });
const comments = commentsPanel(project);

const BUTTONS = ["submit", adjudicating ? "next" : "pass-up"];

// Nothing may be used while an answer is pending, or with no item shown.
function lock(pending) {
  const idle = !pending && Boolean(state.task);
  editor.enable(idle);
  for (const id of BUTTONS) $(id).disabled = !idle;
}

const setPending = pendingState("answer-form", lock);

function show(task) {
  state.task = task;
  renderItem(spec, task);
  comments.load(task ? task.item_id : null);
  $("answer-form").hidden = !task;
  $("escalation").hidden = !task;
  $("retry").hidden = true;
  lock(setPending.active());
  if (!task) return;
  editor.load(task.data || {});
  $("escalation-reason").textContent = task.reason;
  if (adjudicating) {
    const answers = task.answers || [];
    $("crowd").hidden = !answers.length;
    $("crowd-answers").replaceChildren(
      ...answers.map((answer) => {
        const li = document.createElement("li");
        li.textContent = answerText(spec, answer, task.data || {});
        return li;
      }),
    );
    if (spec.type === "boxes") drawAnswers(spec.mediaField, answers);
    if (spec.type === "segments") drawSegmentAnswers(spec.mediaField, answers);
  }
  if (spec.type === "free_text") editor.focus();
}

async function loadNext({ after = 0, item = null } = {}) {
  try {
    if (adjudicating) {
      const query = item ? `item=${item}` : `after=${after}`;
      let found = await call("GET", `/projects/${project}/expert/adjudication?${query}`);
      if (!found.task && (after || item)) found = await call("GET", `/projects/${project}/expert/adjudication`);
      show(found.task);
    } else {
      const found = await call("POST", `/api/v1/projects/${project}/expert-tasks/next`);
      show(found.task);
    }
  } catch (error) {
    if (error.status === 403) {
      showNotice(`${error.message}.`);
      $("expert-task").hidden = true;
      return;
    }
    throw error;
  }
}

const guarded = oneAtATime();

// The answer is saved but the next item did not come: nothing is left to answer here
// until #retry loads one (the saved answer cannot be sent twice).
function nextFailed(done, error) {
  state.task = null;
  setPending("");
  showNextFailed(done, error);
}

function retryNext() {
  return guarded(async () => {
    setPending("Loading the next item…");
    try {
      await loadNext({ after: state.after });
    } catch (error) {
      nextFailed("", error);
      return;
    }
    setPending("");
    setStatus("");
  });
}

function resolve(body, done) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    setPending("Saving…");
    try {
      await call("POST", `/api/v1/projects/${project}/escalations/${task.item_id}/resolve`, body);
    } catch (error) {
      setPending("");
      showNotSaved(error, body.pass_up ? "pass it up again" : undefined);
      return;
    }
    state.done += 1;
    state.after = task.item_id;
    $("tally-settled").textContent = String(state.done);
    const said = `Saved. ${done(task)}`;
    try {
      await loadNext({ after: task.item_id });
    } catch (error) {
      nextFailed(said, error);
      return;
    }
    setPending("");
    setStatus(said);
  });
}

function submit() {
  if (!state.task || setPending.active()) return;
  const given = editor.value();
  if (given.error) {
    setStatus(given.error, true);
    return;
  }
  const said = answerText(spec, given.answer, state.task.data || {});
  resolve({ answer: given.answer }, (task) => `Item #${task.item_id} settled: “${said}”.`);
}

function openPassUp() {
  if (adjudicating || !state.task || setPending.active()) return;
  $("pass-dialog-reason").value = "";
  $("pass-dialog").showModal();
}

function skip() {
  if (!adjudicating || !state.task || setPending.active()) return;
  const current = state.task.item_id;
  guarded(async () => {
    setPending("Loading the next item…");
    try {
      await loadNext({ after: current });
    } catch (error) {
      setPending(""); // nothing was saved: the item shown is still the one to answer
      setStatus(`Loading the next item failed (${error.message || error}); item #${current} is still here.`, true);
      return;
    }
    setPending("");
    setStatus(state.task && state.task.item_id !== current ? `Item #${current} left for later.` : "No other item is waiting.");
  });
}

installShortcuts({
  editor,
  submit,
  keys: () => (setPending.active() ? {} : { p: openPassUp, s: skip }),
});

$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
if (adjudicating) {
  $("next").addEventListener("click", skip);
} else {
  $("pass-up").addEventListener("click", openPassUp);
  $("pass-dialog-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = $("pass-dialog-reason").value.trim();
    if (!reason) return;
    $("pass-dialog").close();
    resolve({ pass_up: reason }, (task) => `Item #${task.item_id} passed up to the adjudicator.`);
  });
  $("pass-dialog-cancel").addEventListener("click", () => $("pass-dialog").close());
}

$("retry").addEventListener("click", () => retryNext());

guarded(async () => {
  try {
    await loadNext({ item: config.item });
  } catch (error) {
    nextFailed("", error);
  }
});
