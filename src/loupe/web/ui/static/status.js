// What a work page says back (workspace, review, expert queue, qualification test): the
// status line (#status, a live region), the notice that replaces the page's task
// (#notice), and one request at a time.
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
