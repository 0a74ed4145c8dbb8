// What the page says when the API cannot answer, and the token prompt of token mode.

import { ApiError, Unreachable, token } from "./api.js";
import { byId, el, fill } from "./dom.js";

/** The message a person can act on, for an error of the API or of the network. */
export function explain(error) {
  if (error instanceof Unreachable) {
    return {
      title: "The search API is unreachable.",
      detail: "Check the network, and that the server (streamfold serve, or the API endpoint) is running; then retry.",
    };
  }
  if (error instanceof ApiError) {
    const wait = error.retryAfter ? ` in ${error.retryAfter} seconds` : " shortly";
    if (error.status === 503) {
      return { title: "The search backend is unavailable.", detail: `Retry${wait}. (${error.message})` };
    }
    if (error.status === 429) {
      return { title: "Too many requests from this browser.", detail: `Retry${wait}. (${error.message})` };
    }
    if (error.status === 401) {
      // The API's own message is for programs (which header to send); a person signs in.
      return token.get() === null
        ? { title: "The API needs a token.", detail: "Enter the API token below to sign in." }
        : { title: "Sign in again.", detail: "The API token was refused: it may have changed. Enter it below." };
    }
    if (error.status === 400) {
      return { title: "The API refused this query.", detail: error.message };
    }
    if (error.status === 404) {
      return { title: "Not found.", detail: error.message };
    }
    return { title: `The API answered an error (${error.status} ${error.code}).`, detail: error.message };
  }
  return { title: "Something went wrong in the page.", detail: String(error?.message ?? error) };
}

/** Show the error in the alert region, with a retry button calling `retry`. */
export function showError(error, retry) {
  const region = byId("status");
  const { title, detail } = explain(error);
  const signIn = error instanceof ApiError && error.status === 401; // the token form retries
  fill(
    region,
    el("strong", {}, title),
    " ",
    el("span", {}, detail),
    retry && !signIn ? el("button", { type: "button", class: "link", onclick: () => retry() }, "Retry") : null,
  );
  region.dataset.code = error instanceof ApiError ? error.code : error instanceof Unreachable ? "unreachable" : "page";
  region.hidden = false;
  if (signIn) askForToken(retry, token.get() !== null);
}

export function clearError() {
  const region = byId("status");
  region.hidden = true;
  region.replaceChildren();
  delete region.dataset.code;
}

/** Show the token form; once a token is given, keep it for this tab and call `retry`. */
function askForToken(retry, wasWrong) {
  const form = byId("token-form");
  const input = byId("token");
  byId("token-hint").textContent = wasWrong
    ? "That token was refused. Enter the API token again."
    : "This API requires a token (STREAMFOLD_API_TOKEN). It is kept in this browser tab only.";
  token.forget();
  showSignOut(); // nothing left to forget
  form.hidden = false;
  input.value = "";
  input.focus();
  form.onsubmit = (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    token.set(input.value.trim());
    form.hidden = true;
    showSignOut();
    clearError();
    retry?.();
  };
}

/** The "Forget token" button, shown while this tab holds a token. */
export function showSignOut() {
  const button = byId("forget-token");
  button.hidden = token.get() === null;
  button.onclick = () => {
    token.forget();
    button.hidden = true;
    location.reload();
  };
}
