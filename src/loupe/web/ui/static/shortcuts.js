// The keyboard of every work page (workspace, review, expert queue, qualification test);
// each page names only its own keys and actions:
//
//   installShortcuts({ editor, submit, keys: { s: skip, u: undo, f: openFlag } });
//
//   editor        the page's answer widgets (editors.js): offered each key first
//   submit        Enter, and Ctrl/Cmd+Enter (which also works from a text box)
//   submitButton  the id of the button Enter stands for (default "submit"); Enter on any
//                 other focused button is left to that button (on a label: choose it)
//   keys          the page's own keys, lower-case letter (or key name) → action; or a
//                 function returning them, for a page whose keys change with its mode
//   onEscape      Esc in a text box (default: leave the box, so that shortcuts work again)
//   editing       whether an answer is being given now (default: always); only then do
//                 submit, onEscape and the editor's keys work
//
// G (guidelines) and ? (shortcuts) come with every page that has a #guidelines panel or a
// #help dialog, together with its Guidelines and Shortcuts buttons. While a dialog is
// open, or with Ctrl, Cmd or Alt held, no key is a shortcut (an editor with `altKeys`,
// the boxes editor, is offered Alt keys: Shift+Alt+arrows resize). Actions are called with
// performance.now() at the keystroke (the workspace measures from it).
const $ = (id) => document.getElementById(id);

export function toggleGuidelines() {
  const panel = $("guidelines");
  panel.hidden = !panel.hidden;
  $("show-guidelines").setAttribute("aria-expanded", String(!panel.hidden));
}

export function showHelp() {
  const dialog = $("help");
  if (!dialog.open) dialog.showModal();
}

// Hand the keyboard back to the shortcuts.
function leaveTextBox(box) {
  box.blur();
  $("main").focus();
}

export function installShortcuts({
  editor,
  submit,
  submitButton = "submit",
  keys = {},
  onEscape = leaveTextBox,
  editing = () => true,
}) {
  const always = {};
  if ($("guidelines")) {
    always.g = toggleGuidelines;
    $("show-guidelines").addEventListener("click", toggleGuidelines);
  }
  if ($("help")) {
    always["?"] = showHelp;
    $("show-help").addEventListener("click", showHelp);
  }

  function pageKey(event) {
    const name = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const own = typeof keys === "function" ? keys() : keys;
    if (Object.hasOwn(own, name)) return own[name];
    return Object.hasOwn(always, name) ? always[name] : null;
  }

  document.addEventListener("keydown", (event) => {
    if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys
    const target = event.target;
    const key = event.key;
    const started = performance.now();
    const answering = editing();
    if (answering && key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(started);
      return;
    }
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
      // Typing: only Esc, and no key is a shortcut.
      if (answering && key === "Escape") {
        event.preventDefault();
        onEscape(target);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (event.altKey) {
      if (answering && editor.altKeys && editor.key(event)) event.preventDefault();
      return;
    }
    if (answering && editor.key(event)) {
      event.preventDefault();
      return;
    }
    let action;
    if (answering && key === "Enter") {
      // Enter on a focused button other than Submit clicks it: a label reached with Tab is
      // chosen (toggled), as with Space, rather than the answer sent without it.
      if (target instanceof HTMLButtonElement && target.id !== submitButton) return;
      action = submit;
    } else {
      action = pageKey(event);
    }
    if (!action) return;
    event.preventDefault();
    action(started);
  });
}
