// The REST API: JSON in and out, the token on every request, ETags kept.

import { session } from "./session.js";

export { session };

export class ApiError extends Error {
  constructor(status, body, etag = null) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.body = body || {};
    this.etag = etag;
  }
}

let onUnauthorized = () => {};

/** Called when the server no longer accepts the token (expired or revoked). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * One request. Resolves to `{status, body, etag}`; rejects with an ApiError for
 * any answer that is not 2xx (status 0 when the server could not be reached).
 * `ifMatch` sends If-Match (an ETag from an earlier answer).
 */
export async function request(method, path, { body, ifMatch, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && session.token) headers.Authorization = `Token ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, { message: "The server cannot be reached. Check your connection and try again." });
  }
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { message: text.slice(0, 200) || response.statusText };
    }
  }
  const etag = response.headers.get("ETag");
  if (!response.ok) {
    const error = new ApiError(response.status, data, etag);
    if (response.status === 401 && auth) onUnauthorized(error);
    throw error;
  }
  return { status: response.status, body: data, etag };
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }),
  patch: (path, body, options) => request("PATCH", path, { ...options, body }),
  delete: (path, options) => request("DELETE", path, options),
};

/** One sentence for an error: its field messages when it has any, else its message. */
export function errorSentence(error) {
  const errors = error.body && error.body.errors;
  if (errors) {
    const messages = Object.values(errors).flat();
    if (messages.length) return messages.join(" ");
  }
  return error.message;
}

/** Every item of a list, following `next` page by page. */
export async function getAll(path) {
  const results = [];
  let next = path + (path.includes("?") ? "&" : "?") + "page_size=100";
  while (next) {
    const { body } = await api.get(next);
    results.push(...body.results);
    // Links are absolute; keep them on this origin whatever host name the server saw.
    next = body.next ? sameOrigin(body.next) : null;
  }
  return results;
}

/** A link from an answer as a path on this origin, whatever host name the server saw. */
export function sameOrigin(url) {
  const parsed = new URL(url, window.location.href);
  return parsed.pathname + parsed.search;
}
