// The public API as any client calls it: a bearer token, refreshed when it runs out; when the
// session cannot be refreshed the sign-in dialog asks again and the request is sent once more,
// so the page (and what was typed in it) stays as it was.

const SESSION_KEY = "unilife.session";

export const session = {
  get() {
    try {
      return JSON.parse(localStorage.getItem(SESSION_KEY));
    } catch {
      return null;
    }
  },
  set(pair) {
    localStorage.setItem(
      SESSION_KEY,
      JSON.stringify({ access: pair.access_token, refresh: pair.refresh_token, user: pair.user_id }),
    );
  },
  clear() {
    localStorage.removeItem(SESSION_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || (status === 0 ? "network" : "error");
    this.serverMessage = body && body.message;
    this.retryAfter = null;
  }
}

/** Set by the app: shows the sign-in dialog and resolves once the user is signed in again. */
let reauthenticate = async () => {
  throw new ApiError(401, { code: "invalid_token" });
};
export function onSessionLost(handler) {
  reauthenticate = handler;
}

async function send(method, path, options, token) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  if (options.accept) headers.accept = options.accept;
  let url = `/api/v1${path}`;
  if (options.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    const s = q.toString();
    if (s) url += (url.includes("?") ? "&" : "?") + s;
  }
  try {
    return await fetch(url, { method, headers, body, signal: options.signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, null);
  }
}

let refreshing = null;
async function refresh() {
  const s = session.get();
  if (!s || !s.refresh) throw new ApiError(401, { code: "missing_token" });
  if (!refreshing) {
    refreshing = (async () => {
      const res = await send("POST", "/auth/refresh", { json: { refresh_token: s.refresh } });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new ApiError(res.status, body);
      session.set(body);
    })().finally(() => (refreshing = null));
  }
  return refreshing;
}

async function failure(res) {
  const body = await res.json().catch(() => null);
  const err = new ApiError(res.status, body);
  err.retryAfter = res.headers.get("retry-after");
  return err;
}

/**
 * `request("GET", "/drugs", {query})`: the parsed JSON (null for 204), or an ApiError.
 * `raw: true` gives the Response itself (streams, images).
 */
export async function request(method, path, options = {}) {
  const auth = options.auth !== false;
  for (let attempt = 0; ; attempt++) {
    const s = auth ? session.get() : null;
    const res = await send(method, path, options, s && s.access);
    if (res.status === 401 && auth && !options.noReauth && attempt < 3) {
      try {
        await refresh();
      } catch {
        session.clear();
        await reauthenticate();
      }
      continue;
    }
    if (!res.ok) throw await failure(res);
    if (options.raw) return res;
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }
}

export const api = {
  get: (path, query, extra = {}) => request("GET", path, { query, ...extra }),
  post: (path, json, extra = {}) => request("POST", path, { json, ...extra }),
  put: (path, json, extra = {}) => request("PUT", path, { json, ...extra }),
  del: (path, query) => request("DELETE", path, { query }),
};

/** Photos need the bearer token, so an <img> shows them from a blob. */
const blobs = new Map();
export async function imageUrl(url) {
  if (blobs.has(url)) return blobs.get(url);
  const path = url.replace(/^\/api\/v1/, "");
  const res = await request("GET", path, { raw: true, accept: "image/*" });
  const objectUrl = URL.createObjectURL(await res.blob());
  blobs.set(url, objectUrl);
  return objectUrl;
}

/**
 * Server-sent events of a POST (EventSource cannot POST): `onEvent(name, data)` for each frame.
 * Resolves when the stream ends.
 */
export async function stream(path, json, onEvent, signal) {
  const res = await request("POST", path, { json, raw: true, accept: "text/event-stream", signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
