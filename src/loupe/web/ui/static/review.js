// Peer review by keyboard: A accepts · R rejects (asks why) · C corrects with the task's own
// widgets (Enter submits, Esc cancels) · G guidelines · ? shortcuts. Blind: the API never
// says who gave the answer under review. While a verdict is being saved every control is
// disabled ("Saving…"); a verdict saved when the next review fails to load says both.
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

const config = JSON.parse(document.getElementById("review-config").textContent);
const project = config.project;
const spec = config.editor;
const $ = (id) => document.getElementById(id);

const state = { review: null, correcting: false, done: 0 };

const editor = createEditor(spec, { onStatus: setStatus });
const comments = commentsPanel(project);

// What may be used now: nothing while a verdict is pending or with nothing to review;
// else the verdict buttons, or while correcting the correction's widgets and buttons.
function lock(pending) {
  const idle = !pending && Boolean(state.review);
  for (const id of ["accept", "reject", "correct"]) $(id).disabled = !idle || state.correcting;
  for (const id of ["submit-correction", "cancel-correction"]) {
    $(id).disabled = !idle || !state.correcting;
  }
  editor.enable(idle && state.correcting);
}

const setPending = pendingState("review-form", lock);

function setCorrecting(on) {
  state.correcting = on;
  $("correction").hidden = !on;
  $("correct").setAttribute("aria-expanded", String(on));
  lock(setPending.active());
  if (state.review) editor.set(state.review.answer);
}

function show(review) {
  state.review = review;
  $("retry").hidden = true;
  renderItem(spec, review);
  comments.load(review ? review.item_id : null);
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
    // Boxes: the answer under review is the editor's (drawn solid); the others dotted.
    if (spec.type === "boxes") drawAnswers(spec.mediaField, others || [], { prefix: "other answer" });
    // Segments likewise: the answer under review on the editor's layer, the others apart.
    if (spec.type === "segments") drawSegmentAnswers(spec.mediaField, others || [], { prefix: "other answer" });
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

// The verdict is saved but the next review did not come: nothing is left to decide here
// until #retry loads one (the saved verdict cannot be sent twice).
function nextFailed(done, error) {
  state.review = null;
  state.correcting = false;
  $("correction").hidden = true;
  setPending("");
  showNextFailed(done, error);
}

function retryNext() {
  return guarded(async () => {
    setPending("Loading the next review…");
    try {
      await loadNext();
    } catch (error) {
      nextFailed("", error);
      return;
    }
    setPending("");
    setStatus("");
  });
}

function verdict(kind, extra = {}) {
  return guarded(async () => {
    const review = state.review;
    if (!review) return;
    const body = { verdict: kind, ...extra };
    setPending("Saving…");
    let outcome;
    try {
      outcome = await call("POST", `/api/v1/projects/${project}/labels/${review.label_id}/reviews`, body);
    } catch (error) {
      setPending("");
      showNotSaved(error, state.correcting ? "your correction is still here; submit again" : "give your verdict again");
      return;
    }
    state.done += 1;
    $("tally-reviews").textContent = String(state.done);
    const decided = outcome.status === "pending" ? "it waits for more reviews" : `the label is now ${outcome.status}`;
    const done = `Saved. ${DONE[kind]} item #${review.item_id}; ${decided}.`;
    try {
      await loadNext();
    } catch (error) {
      nextFailed(done, error);
      return;
    }
    setPending("");
    setStatus(done);
  });
}

function openReject() {
  if (!state.review || state.correcting || setPending.active()) return;
  $("reject-dialog-reason").value = "";
  $("reject-dialog").showModal();
}

function startCorrection() {
  if (!state.review || setPending.active()) return;
  setCorrecting(true);
  setStatus(
    spec.type === "free_text"
      ? "Edit the text, then Ctrl+Enter (Esc cancels)."
      : "Give the right answer, then Enter (Esc cancels).",
  );
  if (spec.type === "free_text") editor.focus();
}

function cancelCorrection() {
  if (setPending.active()) return; // the correction is being saved: it stays as sent
  setCorrecting(false);
  $("main").focus();
  setStatus("Correction cancelled.");
}

function submitCorrection() {
  if (!state.correcting || setPending.active()) return;
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
    if (setPending.active()) return {}; // nothing changes while a verdict is saved
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
$("retry").addEventListener("click", () => retryNext());

guarded(async () => {
  try {
    await loadNext();
  } catch (error) {
    nextFailed("", error);
  }
});
