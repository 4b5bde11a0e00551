// What a work page says back (workspace, review, expert queue, qualification test): the
// status line (#status, a live region), the notice that replaces the page's task
// (#notice), one request at a time, and the honest states around a save: pending
// ("Saving…", widgets locked), not saved, and saved but the next item failed (#retry).
const $ = (id) => document.getElementById(id);

export function setStatus(text, bad = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("bad", bad);
}

export function showNotice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
}

// Returns guarded(action): runs the async action unless one is still under way (a key
// pressed meanwhile is dropped, not queued), says any error in the status line, then
// calls after().
export function oneAtATime(after = () => {}) {
  let busy = false;
  return async function guarded(action) {
    if (busy) return;
    busy = true;
    try {
      await action();
    } catch (error) {
      setStatus(error.message || String(error), true);
    } finally {
      busy = false;
      after();
    }
  };
}

// While a request is in flight the answer cannot change: the form says it is busy
// (aria-busy, and .pending dims it) and lock(pending) disables the page's widgets and
// buttons (visibly), so nothing typed meanwhile is silently dropped or sent late. Returns
// setPending(text): a text ("Saving…") replaces the status line, so an earlier "Saved"
// never stays up; "" ends the pending state. setPending.active() says whether one is on.
export function pendingState(formId, lock) {
  let pending = false;
  const setPending = (text) => {
    pending = Boolean(text);
    const form = $(formId);
    form.setAttribute("aria-busy", String(pending));
    form.classList.toggle("pending", pending);
    lock(pending);
    if (pending) setStatus(text);
  };
  setPending.active = () => pending;
  return setPending;
}

// The decision or label was saved (`done` says so) but the next item did not come: say
// which step failed, and offer to load the next item again with the page's #retry button
// (what was saved cannot be sent twice).
export function showNextFailed(done, error) {
  const failed = `Loading the next item failed (${error.message || error}): try again.`;
  setStatus(done ? `${done} ${failed}` : failed, true);
  $("retry").hidden = false;
  $("retry").focus();
}

// Saving failed: nothing was recorded, and what was given is still on the page.
export function showNotSaved(error, keep = "your answer is still here; submit again") {
  setStatus(`Not saved (${error.message || error}): ${keep}.`, true);
}
