// A qualification test, one question per screen, answered with the project's editor.
// Enter keeps the answer and goes on (the last submits them all) · ? shortcuts.
import { call } from "./api.js";
import { createEditor } from "./editors.js";
import { renderItem } from "./item.js";
import { installShortcuts } from "./shortcuts.js";
import { oneAtATime, setStatus, showNotice } from "./status.js";

const config = JSON.parse(document.getElementById("qualification-config").textContent);
const base = `/api/v1/projects/${config.project}/qualifications/${config.test}/attempts`;
const spec = config.editor;
const $ = (id) => document.getElementById(id);

const state = { attempt: null, at: 0, answers: new Map() };

const editor = createEditor(spec, { onStatus: setStatus });

function showQuestion(at) {
  const questions = state.attempt.questions;
  state.at = at;
  const question = questions[at];
  renderItem(spec, { item_id: question.index, ref: `Question ${at + 1}`, data: question.data });
  editor.load(question.data || {});
  if (state.answers.has(question.index)) editor.set(state.answers.get(question.index));
  $("q-number").textContent = String(at + 1);
  $("previous").disabled = at === 0;
  const last = at === questions.length - 1;
  $("next").firstChild.textContent = last ? "Submit answers " : "Next ";
  setStatus("");
  if (spec.type === "free_text") editor.focus();
}

const guarded = oneAtATime();

function start() {
  return guarded(async () => {
    try {
      state.attempt = await call("POST", base);
    } catch (error) {
      if (error.status === 409 || error.status === 403) {
        showNotice(`${error.message}.`);
        $("start").disabled = true;
        return;
      }
      throw error;
    }
    $("intro").hidden = true;
    $("quiz").hidden = false;
    $("q-total").textContent = String(state.attempt.questions.length);
    showQuestion(0);
    $("main").focus();
  });
}

function keep() {
  const given = editor.value();
  if (given.error) {
    setStatus(given.error, true);
    return false;
  }
  state.answers.set(state.attempt.questions[state.at].index, given.answer);
  return true;
}

function next() {
  if (!state.attempt || !keep()) return;
  if (state.at + 1 < state.attempt.questions.length) {
    showQuestion(state.at + 1);
    return;
  }
  guarded(async () => {
    const answers = Object.fromEntries([...state.answers].map(([index, answer]) => [String(index), answer]));
    const result = await call("POST", `${base}/${state.attempt.id}`, { answers });
    showResult(result);
  });
}

function previous() {
  if (!state.attempt || state.at === 0) return;
  const given = editor.value();
  if (!given.error) state.answers.set(state.attempt.questions[state.at].index, given.answer);
  showQuestion(state.at - 1);
}

function showResult(result) {
  state.attempt = null;
  $("quiz").hidden = true;
  $("result").hidden = false;
  $("result").classList.toggle("passed", result.passed);
  $("result-title").textContent = result.passed ? "Passed" : "Not passed";
  $("result-score").textContent =
    `${result.n_correct} of ${result.n_total} right (${Math.round(result.score * 100)} %); ` +
    `the pass mark is ${Math.round(result.pass_mark * 100)} %.`;
  $("result-level").textContent = result.level
    ? `You now hold level ${result.level} in ${result.domain}` +
      (result.level_expires_at ? `, until ${result.level_expires_at.slice(0, 10)}.` : ".")
    : `You hold no level in ${result.domain}.`;
  if (result.passed) {
    $("result-retry").textContent = "";
  } else if (result.attempts_left > 0 && result.retry_after) {
    const when = new Date(result.retry_after);
    $("result-retry").textContent =
      `${result.attempts_left} attempt${result.attempts_left === 1 ? "" : "s"} left; the next may start ` +
      `${when.toISOString().slice(0, 16).replace("T", " ")} UTC.`;
  } else {
    $("result-retry").textContent = "No attempts left: ask a project manager.";
  }
  $("result").focus();
}

// Before the first question and after the result, ? is the only key.
installShortcuts({ editor, submit: next, submitButton: "next", editing: () => Boolean(state.attempt) });

$("start").addEventListener("click", start);
// The button is disabled in the page until this script has loaded: a click before
// then would do nothing (and a slow connection makes that likely).
$("start").disabled = false;
$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  next();
});
$("previous").addEventListener("click", previous);
