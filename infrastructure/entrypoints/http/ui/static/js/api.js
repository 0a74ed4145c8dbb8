// The public HTTP API, as any caller sees it: the page has no other way in.
//
// The API lives beside the screen: the screen is served at <root>/ui/, the API at
// <root>/v1/, so the root is found from this file's own address and the page also works
// behind a path prefix (an API Gateway stage). In token mode the token the person typed
// is kept in this tab's sessionStorage and sent as a bearer token; nothing is embedded.

const ROOT = new URL("../../", import.meta.url);
const TOKEN_KEY = "streamfold.api-token";

/** The API answered with an error (its JSON error body, or what could be made of it). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** No answer at all: the server is down, the network is out, or a proxy dropped us. */
export class Unreachable extends Error {}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function call(method, path, body, signal) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const bearer = token.get();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let response;
  try {
    response = await fetch(new URL(path, ROOT), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Unreachable("the search API cannot be reached");
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null; // not JSON: a proxy's or a load balancer's own page
  }
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? (response.statusText || `HTTP ${response.status}`),
      response.headers.get("retry-after"),
    );
  }
  if (payload === null) {
    throw new ApiError(response.status, "invalid_response", "the API answered something that is not JSON");
  }
  return payload;
}

/** POST /v1/{kind}/search: {total, hits, facets, next_cursor}. */
export const search = (kind, request, signal) => call("POST", `v1/${kind}/search`, request, signal);

/** POST /v1/{kind}/count: the exact number of matches. */
export async function count(kind, request, signal) {
  return (await call("POST", `v1/${kind}/count`, request, signal)).count;
}

/** GET /v1/{kind}/documents/{id}: {id, source}. */
export const document = (kind, id, signal) =>
  call("GET", `v1/${kind}/documents/${encodeURIComponent(id)}`, undefined, signal);

/** GET /v1/{kind}/documents/{id}/history: {entries, next_cursor}, newest first. */
export const history = (kind, id, query, signal) =>
  call("GET", `v1/${kind}/documents/${encodeURIComponent(id)}/history?${query}`, undefined, signal);

/** GET /v1/{kind}/documents/{id}?as_of=...: the document then, or a 404. */
export const documentAsOf = (kind, id, moment, signal) =>
  call("GET", `v1/${kind}/documents/${encodeURIComponent(id)}?as_of=${encodeURIComponent(moment)}`, undefined, signal);

/** GET /v1/{kind}/documents/{id}/explain?field=...: {field, value, items}. */
export const explain = (kind, id, field, signal) =>
  call("GET", `v1/${kind}/documents/${encodeURIComponent(id)}/explain?field=${encodeURIComponent(field)}`, undefined, signal);
