// The webhooks page's buttons: each calls the JSON API with the session's CSRF token,
// then reloads the server-rendered page (the secret of a new webhook is shown first).
import { call } from "./api.js";

const form = document.getElementById("add-webhook");
const project = form.dataset.project;
const base = `/api/v1/projects/${project}/webhooks`;
const status = document.getElementById("webhook-status");
const secret = document.getElementById("webhook-secret");

async function run(work) {
  status.textContent = "";
  try {
    await work();
  } catch (error) {
    status.textContent = error.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const events = [...form.querySelectorAll('input[name="events"]:checked')].map((box) => box.value);
    const created = await call("POST", base, { url: form.elements.url.value, events });
    secret.querySelector("code").textContent = created.secret;
    secret.hidden = false;
    status.textContent = `Added webhook ${created.id}. Reload the page once you have stored its secret.`;
    form.reset();
  });
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, webhook, delivery } = button.dataset;
  run(async () => {
    if (action === "ping") await call("POST", `${base}/${webhook}/ping`);
    else if (action === "pause") await call("PATCH", `${base}/${webhook}`, { active: false });
    else if (action === "resume") await call("PATCH", `${base}/${webhook}`, { active: true });
    else if (action === "delete") {
      if (!window.confirm(`Delete webhook ${webhook} and its delivery log?`)) return;
      await call("DELETE", `${base}/${webhook}`);
    } else if (action === "redeliver") await call("POST", `${base}/deliveries/${delivery}/redeliver`);
    window.location.reload();
  });
});
