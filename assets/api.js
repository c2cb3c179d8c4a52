// The one module that talks to Quarry's JSON API: requests, errors in one
// shape, the session's CSRF token, and the live event stream.
import { has, money as moneyInLocale, t } from "/assets/i18n.js";

/** A message of the page's language; in English before the catalogue is in. */
function said(key, english, params) {
  return has(key) ? t(key, params) : english;
}

/** An error answer from the API (or no answer at all: status 0). */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    // The API's messages name their field for scripts ("lines[0].quantity:
    // must be…"); people see the message next to the field, without it.
    const prefix = field ? `${field}: ` : null;
    super(prefix && message.startsWith(prefix) ? message.slice(prefix.length) : message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let csrfToken = null;

/** Remembers the CSRF token that changes through a browser session must send. */
export function setCsrf(token) {
  csrfToken = token ?? null;
}

/** The API path with its query string; empty values are left out. */
export function url(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) {
      params.set(key, String(value));
    }
  }
  const search = params.toString();
  return `/api/v1${path}${search ? `?${search}` : ""}`;
}

/** Sends like `fetch`, through XMLHttpRequest, which reports upload progress. */
function sendTracked(href, init, onUpload) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(init.method, href);
    for (const [name, value] of Object.entries(init.headers)) xhr.setRequestHeader(name, value);
    xhr.responseType = "blob";
    xhr.upload.addEventListener("progress", (e) => onUpload(e.loaded, e.lengthComputable ? e.total : 0));
    xhr.addEventListener("load", () => resolve(new Response(xhr.response, {
      status: xhr.status,
      headers: { "content-type": xhr.getResponseHeader("content-type") ?? "" },
    })));
    xhr.addEventListener("error", () => reject(new TypeError("network error")));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    init.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(init.body ?? null);
  });
}

/**
 * Calls the API and answers `{ body, response }`. `body` is a JSON value, a
 * `FormData` (sent as multipart) or nothing; `onUpload(sent, total)` follows
 * the body going out. Throws `ApiError` for every answer that is not 2xx, and
 * for no answer at all.
 */
export async function request(path, options = {}) {
  const { method = "GET", query, body, headers = {}, signal, onUpload } = options;
  const init = { method, headers: { accept: "application/json", ...headers }, signal };
  if (method !== "GET" && csrfToken) init.headers["x-csrf-token"] = csrfToken;
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = onUpload ? await sendTracked(url(path, query), init, onUpload) : await fetch(url(path, query), init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", said("api.unreachable", "Quarry could not be reached. Check the connection and try again."));
  }
  const type = response.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const e = data?.error;
    const error = new ApiError(
      response.status,
      e?.code ?? "http_" + response.status,
      e?.message ?? said("api.failed", `The request failed (${response.status}).`, { status: String(response.status) }),
      e?.field ?? null,
    );
    error.body = data;
    // This page has no CSRF token or the old session's: a storefront page in a
    // browser signed in to the back office, or a sign-in in another tab. The
    // server refused before doing anything, so fetch the session's token and
    // send the change once more.
    if (response.status === 403 && error.code === "csrf_failed" && !options.retried) {
      const before = csrfToken;
      if ((await me().catch(() => null)) && csrfToken !== before) return request(path, { ...options, retried: true });
    }
    if (response.status === 401 && path !== "/auth/login") {
      error.message = said("api.sessionEnded", "Your session has ended. Sign in again, then try once more.");
      dispatchEvent(new CustomEvent("quarry:unauthenticated", { detail: error }));
    }
    throw error;
  }
  return { body: data, response };
}

/** Calls the API and answers the JSON body. */
export async function api(path, options) {
  return (await request(path, options)).body;
}

/** Answers that say "not now" rather than "no": a job is looked at again after them. */
const PASSING = new Set([0, 401, 429, 502, 503, 504]);

/**
 * Starts long work (an import, a backup) as a job and follows it to its end:
 * `onProgress(job)` hears how far it has got. Answers what the work answered,
 * or throws it as an `ApiError`, as `api` does. The job goes on on the server
 * whatever happens here, so a lost connection or an ended session (signing in
 * again in another tab) only delays the looking.
 */
export async function work(path, options = {}, onProgress = () => {}) {
  const started = await request(path, { ...options, headers: { ...options.headers, prefer: "respond-async" } });
  // Something on the way dropped `Prefer`: the server waited, and this is the answer.
  if (started.response.status !== 202) return started.body;
  let job = started.body;
  let pause = 100;
  while (job.state === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, pause));
    try {
      job = await api(`/jobs/${encodeURIComponent(job.id)}`);
      pause = Math.min(pause * 1.5, 1000);
    } catch (error) {
      if (!PASSING.has(error.status)) throw error;
      pause = Math.min(pause * 2, 5000);
    }
  }
  onProgress(job);
  if (job.status >= 200 && job.status < 300) return job.result;
  const e = job.result?.error;
  const error = new ApiError(job.status, e?.code ?? `http_${job.status}`,
    e?.message ?? said("api.workFailed", `The work failed (${job.status}).`, { status: String(job.status) }), e?.field ?? null);
  error.body = job.result;
  throw error;
}

/** A fresh key for a POST that must not be booked twice when retried. */
export function idempotencyKey() {
  return crypto.randomUUID();
}

/** The signed-in user (`/auth/me`), or null; remembers the CSRF token. */
export async function me() {
  try {
    const who = await api("/auth/me");
    setCsrf(who.csrf_token);
    return who;
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

let shopInfo = null;

/** The shop's name, currency, contact, units and locale (fetched once per page). */
export async function shop() {
  shopInfo ??= api("/shop");
  return shopInfo;
}

/** Formats a decimal string of money in the shop's currency, as the shop's locale writes it. */
export function money(amount, currency) {
  return moneyInLocale(amount, currency);
}

/**
 * Follows the live event stream: `handlers` maps event names to functions of
 * the parsed data. The browser reconnects on its own, resuming from the last
 * event id; a stream the server refused (too many open) is tried again after
 * ten seconds. `onState` hears "live" and "reconnecting". Answers a function
 * that closes the stream.
 */
export function live(handlers, { onState } = {}) {
  // EventSource retries a dropped connection by itself, but gives up for good
  // when the server refuses the stream (429 or 503: too many streams open).
  // Then it is opened again after a pause, from the last event seen.
  let source = null;
  let last = null;
  let retry = null;
  let stopped = false;
  const open = () => {
    source = new EventSource(url("/events", { since: last }));
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        if (event.lastEventId) last = event.lastEventId;
        try {
          handle(JSON.parse(event.data), event);
        } catch (error) {
          console.warn("quarry: could not handle a live event", name, error);
        }
      });
    }
    source.addEventListener("open", () => onState?.("live"));
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        onState?.("reconnecting");
        return;
      }
      onState?.("reconnecting");
      if (!stopped) retry = setTimeout(open, 10_000);
    });
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    source?.close();
  };
}
