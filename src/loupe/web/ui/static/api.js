// fetch() against Loupe's JSON API with the browser session: the cookie travels by
// itself (same origin); writes add the session's CSRF token as X-CSRF-Token.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    if (response.status === 401) {
      window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}&expired=1`);
    }
    throw new ApiError(response.status, error.code ?? "http_error", error.message ?? response.statusText);
  }
  return data;
}
