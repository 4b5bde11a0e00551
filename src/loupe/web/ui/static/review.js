// Peer review by keyboard: A accepts · R rejects (asks why) · C corrects with the task's own
// widgets (Enter submits, Esc cancels) · G guidelines · ? shortcuts. Blind: the API never
// says who gave the answer under review.
import { call } from "./api.js";
import { answerText, createEditor } from "./editors.js";
import { renderItem } from "./item.js";
import { installShortcuts } from "./shortcuts.js";
import { oneAtATime, setStatus, showNotice } from "./status.js";

const config = JSON.parse(document.getElementById("review-config").textContent);
const project = config.project;
const spec = config.editor;
const $ = (id) => document.getElementById(id);

const state = { review: null, correcting: false, done: 0 };

const editor = createEditor(spec, { onStatus: setStatus });

function setCorrecting(on) {
  state.correcting = on;
  $("correction").hidden = !on;
  $("correct").setAttribute("aria-expanded", String(on));
  for (const id of ["accept", "reject", "correct"]) $(id).disabled = on || !state.review;
  editor.enable(on);
  if (state.review) editor.set(state.review.answer);
}

function show(review) {
  state.review = review;
  renderItem(spec, review);
  $("reviewed").hidden = !review;
  $("review-form").hidden = !review;
  if (review) {
    editor.load(review.data || {});
    $("reviewed-answer").textContent = answerText(spec, review.answer, review.data || {});
    const others = review.other_answers;
    $("others").hidden = !others || !others.length;
    $("other-answers").replaceChildren(
      ...(others || []).map((answer) => {
        const li = document.createElement("li");
        li.textContent = answerText(spec, answer, review.data || {});
        return li;
      }),
    );
  }
  setCorrecting(false);
}

async function loadNext() {
  try {
    const found = await call("POST", `/api/v1/projects/${project}/reviews/next`);
    show(found.review);
  } catch (error) {
    if (error.status === 403) {
      showNotice(`You cannot review in this project yet: ${error.message}.`);
      $("review-task").hidden = true;
      return;
    }
    throw error;
  }
}

const guarded = oneAtATime();

const DONE = { accept: "Accepted", reject: "Rejected", correct: "Corrected" };

function verdict(kind, extra = {}) {
  return guarded(async () => {
    const review = state.review;
    if (!review) return;
    const body = { verdict: kind, ...extra };
    const outcome = await call("POST", `/api/v1/projects/${project}/labels/${review.label_id}/reviews`, body);
    state.done += 1;
    $("tally-reviews").textContent = String(state.done);
    await loadNext();
    const decided = outcome.status === "pending" ? "it waits for more reviews" : `the label is now ${outcome.status}`;
    setStatus(`${DONE[kind]} item #${review.item_id}; ${decided}.`);
  });
}

function openReject() {
  if (!state.review || state.correcting) return;
  $("reject-dialog-reason").value = "";
  $("reject-dialog").showModal();
}

function startCorrection() {
  if (!state.review) return;
  setCorrecting(true);
  setStatus(
    spec.type === "free_text"
      ? "Edit the text, then Ctrl+Enter (Esc cancels)."
      : "Give the right answer, then Enter (Esc cancels).",
  );
  if (spec.type === "free_text") editor.focus();
}

function cancelCorrection() {
  setCorrecting(false);
  $("main").focus();
  setStatus("Correction cancelled.");
}

function submitCorrection() {
  if (!state.correcting) return;
  const given = editor.value();
  if (given.error) {
    setStatus(given.error, true);
    return;
  }
  verdict("correct", { corrected_answer: given.answer });
}

// While correcting, the keys are the editor's and Enter submits the correction; else A, R, C
// (with nothing to review, only G and ?).
installShortcuts({
  editor,
  submit: submitCorrection,
  submitButton: "submit-correction",
  onEscape: cancelCorrection,
  editing: () => state.correcting,
  keys: () => {
    if (state.correcting) return { Escape: cancelCorrection };
    return state.review ? { a: () => verdict("accept"), r: openReject, c: startCorrection } : {};
  },
});

$("accept").addEventListener("click", () => verdict("accept"));
$("reject").addEventListener("click", openReject);
$("correct").addEventListener("click", startCorrection);
$("cancel-correction").addEventListener("click", cancelCorrection);
$("review-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitCorrection();
});
$("reject-dialog-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = $("reject-dialog-reason").value.trim();
  if (!reason) return;
  $("reject-dialog").close();
  verdict("reject", { reason });
});
$("reject-dialog-cancel").addEventListener("click", () => $("reject-dialog").close());

guarded(loadNext);
