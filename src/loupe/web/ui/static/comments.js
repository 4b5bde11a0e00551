// Comments on the item on screen (review and expert pages): the item's comments, oldest
// first, and a box to add one. The server gates the text (personal data redacted) before
// it stores it, and shows authors only to managers. Ctrl/Cmd+Enter in the box sends the
// comment, never the page's answer.
import { call } from "./api.js";

export function commentsPanel(project) {
  const root = document.getElementById("comments-panel");
  const list = root.querySelector("[data-comments-list]");
  const empty = root.querySelector("[data-comments-empty]");
  const status = root.querySelector("[data-comments-status]");
  const form = root.querySelector("form");
  const box = form.querySelector("textarea");
  let item = null;

  function entry(comment) {
    const li = document.createElement("li");
    const text = document.createElement("p");
    text.textContent = comment.body;
    const meta = document.createElement("p");
    meta.className = "subtle";
    const who = comment.author ?? (comment.mine ? "you" : "a contributor");
    const when = comment.created_at.slice(0, 16).replace("T", " ");
    meta.textContent = `${who}, ${when} UTC${comment.redacted ? " · personal data redacted" : ""}`;
    li.append(text, meta);
    return li;
  }

  async function load(itemId) {
    item = itemId ?? null;
    root.hidden = item === null;
    list.replaceChildren();
    empty.hidden = true;
    status.textContent = "";
    if (item === null) return;
    const shown = item;
    try {
      const comments = await call("GET", `/api/v1/projects/${project}/items/${shown}/comments`);
      if (shown !== item) return; // the page moved on to another item meanwhile
      list.replaceChildren(...comments.map(entry));
      empty.hidden = comments.length > 0;
    } catch (error) {
      status.textContent = `The comments could not be loaded: ${error.message}`;
    }
  }

  async function send() {
    if (item === null || !box.value.trim()) return;
    const shown = item;
    try {
      await call("POST", `/api/v1/projects/${project}/items/${shown}/comments`, { body: box.value });
      box.value = "";
      if (shown === item) await load(shown);
    } catch (error) {
      status.textContent = `Not saved: ${error.message}`;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation(); // not the page's Ctrl+Enter (submit the answer)
      send();
    }
  });
  return { load };
}
