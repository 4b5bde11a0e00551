// The escalation ladder by keyboard: experts answer (Enter) or pass up (P, asks why);
// adjudicators answer (Enter) or look at the next item waiting (S). G guidelines · ? shortcuts.
import { call } from "./api.js";
import { answerText, createEditor } from "./editors.js";
import { renderItem } from "./item.js";
import { installShortcuts } from "./shortcuts.js";
import { oneAtATime, setStatus, showNotice } from "./status.js";

const config = JSON.parse(document.getElementById("expert-config").textContent);
const project = config.project;
const spec = config.editor;
const adjudicating = config.stage === "adjudicator";
const $ = (id) => document.getElementById(id);

const state = { task: null, done: 0 };

const editor = createEditor(spec, { onStatus: setStatus });

function show(task) {
  state.task = task;
  renderItem(spec, task);
  $("answer-form").hidden = !task;
  $("escalation").hidden = !task;
  editor.enable(Boolean(task));
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

function resolve(body, done) {
  return guarded(async () => {
    const task = state.task;
    if (!task) return;
    await call("POST", `/api/v1/projects/${project}/escalations/${task.item_id}/resolve`, body);
    state.done += 1;
    $("tally-settled").textContent = String(state.done);
    await loadNext({ after: task.item_id });
    setStatus(done(task));
  });
}

function submit() {
  if (!state.task) return;
  const given = editor.value();
  if (given.error) {
    setStatus(given.error, true);
    return;
  }
  const said = answerText(spec, given.answer, state.task.data || {});
  resolve({ answer: given.answer }, (task) => `Item #${task.item_id} settled: “${said}”.`);
}

function openPassUp() {
  if (adjudicating || !state.task) return;
  $("pass-dialog-reason").value = "";
  $("pass-dialog").showModal();
}

function skip() {
  if (!adjudicating || !state.task) return;
  const current = state.task.item_id;
  guarded(async () => {
    await loadNext({ after: current });
    setStatus(state.task && state.task.item_id !== current ? `Item #${current} left for later.` : "No other item is waiting.");
  });
}

installShortcuts({ editor, submit, keys: { p: openPassUp, s: skip } });

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

guarded(() => loadNext({ item: config.item }));
