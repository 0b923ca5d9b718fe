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

/*
 * One refresh at a time across every tab of this browser (a refresh token works once: a second
 * use of it would end the session), and none when another request or tab already rotated the
 * token that failed (`usedAccess`).
 */
let refreshing = null;
async function refresh(usedAccess) {
  const run = async () => {
    const s = session.get();
    if (!s || !s.refresh) throw new ApiError(401, { code: "missing_token" });
    if (s.access && s.access !== usedAccess) return;
    const res = await send("POST", "/auth/refresh", { json: { refresh_token: s.refresh } });
    if (!res.ok) throw await failure(res);
    session.set(await res.json());
  };
  if (!refreshing) {
    const locked = navigator.locks ? navigator.locks.request("unilife-refresh", run) : run();
    refreshing = locked.finally(() => (refreshing = null));
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
        await refresh(s && s.access);
      } catch (err) {
        // Only a refresh token the server refused ends the session; a network error, a 429 or
        // a 5xx leaves it for the next try and is shown as what it is.
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        const who = s && s.user;
        session.clear();
        await reauthenticate(who);
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

/** Ends the session on the server too, refreshing first if the access token ran out. */
export async function logout() {
  const s = session.get();
  if (!s) return;
  let res = await send("POST", "/auth/logout", {}, s.access).catch(() => null);
  if (res && res.status === 401) {
    try {
      await refresh(s.access);
      res = await send("POST", "/auth/logout", {}, session.get().access);
    } catch {
      // Nothing left to end.
    }
  }
  session.clear();
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
 * Resolves when the stream ends. A stream cut before its end (a dropped connection, a proxy)
 * is taken up again where it stopped (`/chat/resume` with the last event id), up to 3 times:
 * the reply goes on with nothing lost or repeated.
 */
export async function stream(path, json, onEvent, signal) {
  let lastId = null;
  let finished = false;
  const frame = (text) => {
    let name = "message";
    const data = [];
    for (const line of text.split("\n")) {
      if (line.startsWith("id:")) lastId = line.slice(3).trim();
      else if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    if (name === "done" || name === "error") finished = true;
    onEvent(name, JSON.parse(data.join("\n")));
  };
  const read = async (res) => {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (err.name === "AbortError") throw err;
          return;
        }
        if (chunk.done) break;
        // Any line ending (an intermediary may rewrite them).
        buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const text = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          frame(text);
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  };
  const accept = "text/event-stream";
  let res = await request("POST", path, { json, raw: true, accept, signal });
  for (let attempt = 0; ; attempt++) {
    await read(res);
    if (finished) return;
    // Cut off before its last event: an error only when it cannot be taken up again.
    if (!lastId || attempt >= 3) throw new ApiError(0, null);
    await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    try {
      res = await request("GET", "/chat/resume", { query: { last_event_id: lastId }, raw: true, accept, signal });
    } catch (err) {
      if (err.name === "AbortError" || !(err instanceof ApiError) || err.status !== 0) throw err;
      res = null;
    }
    if (res && res.status === 204) return;
    if (!res) res = { body: new Blob([]).stream() };
  }
}
