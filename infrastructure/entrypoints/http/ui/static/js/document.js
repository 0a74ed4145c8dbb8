// One document's page: a user with that user's images, or an image with a link to its owner.

import * as api from "./api.js";
import { byId, display, el, fill, formatDate, formatNumber } from "./dom.js";
import { mountHistory } from "./history.js";
import { KINDS } from "./kinds.js";
import { clearError } from "./status.js";

const RELATED_SIZE = 10;
let controller = null;

export async function showDocument(state, { onError }) {
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  const section = byId("document-view");
  section.dataset.state = "loading";
  const back = byId("back-to-search");
  back.href = sessionStorage.getItem("streamfold.last-search") ?? `?kind=${state.kind}`;
  back.dataset.nav = "";
  try {
    const [found, images] = await Promise.all([
      api.document(state.kind, state.id, signal),
      state.kind === "users" ? imagesOf(state.id, signal) : null,
    ]);
    clearError();
    render(state, found.source, images);
    section.dataset.state = "ready";
    section.dataset.id = state.id;
    byId("document-title").focus();
  } catch (error) {
    if (error.name === "AbortError") return;
    fill(byId("document-title"), `${KINDS[state.kind].singular} ${state.id}`);
    fill(byId("document-fields"));
    fill(byId("related-title"));
    fill(byId("related-body"));
    section.dataset.state = "error";
    onError(error);
  }
}

function imagesOf(userId, signal) {
  return api.search(
    "images",
    {
      filter: { type: "term", field: "owner.user_id", value: userId },
      sort: [{ field: "created_at", order: "desc" }],
      size: RELATED_SIZE,
      highlight: null,
    },
    signal,
  );
}

function render(state, source, images) {
  const kind = KINDS[state.kind];
  const title = source[kind.titleField] || state.id;
  document.title = `${title} · streamfold CRM`;
  fill(byId("document-title"), title);
  fill(byId("document-kind"), `${kind.singular[0].toUpperCase()}${kind.singular.slice(1)} ${state.id}`);
  fill(
    byId("document-fields"),
    kind.fields.map(([field, label, format]) => [
      el("dt", {}, label),
      el("dd", { dataset: { field } }, format ? format(source[field]) : display(source[field])),
    ]),
    otherFields(kind, source).map(([field, value]) => [
      el("dt", {}, humanized(field)),
      el("dd", { dataset: { field } }, display(value)),
    ]),
  );
  if (state.kind === "users") renderImages(state.id, images);
  else renderOwner(source);
  mountHistory(state, source);
}

/** `analytics.first_source` -> "Analytics: first source". */
function humanized(field) {
  const words = field.replaceAll("_", " ").replace(".", ": ");
  return words[0].toUpperCase() + words.slice(1);
}

/** Fields of the document the screen has no label for (newer ones), nested ones dotted. */
function otherFields(kind, source) {
  const known = new Set([kind.titleField, "owner", "owner_id", ...kind.fields.map(([field]) => field)]);
  const other = [];
  for (const [field, value] of Object.entries(source)) {
    if (known.has(field)) continue;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) other.push([`${field}.${key}`, inner]);
    } else {
      other.push([field, value]);
    }
  }
  return other;
}

function renderImages(userId, page) {
  const noun = page.total === 1 ? "image" : "images";
  fill(byId("related-title"), `${formatNumber(page.total)} ${noun} of this user`);
  if (!page.hits.length) {
    fill(byId("related-body"), el("p", { class: "hint" }, "This user has no images."));
    return;
  }
  const rows = page.hits.map((hit) =>
    el(
      "tr",
      { dataset: { id: hit.id } },
      el("th", { scope: "row" }, el("a", { href: `?kind=images&id=${encodeURIComponent(hit.id)}`, "data-nav": true }, hit.source.title || hit.id)),
      el("td", {}, display(hit.source.status)),
      el("td", { class: "numeric" }, formatNumber(hit.source.like_count)),
      el("td", {}, formatDate(hit.source.created_at)),
    ),
  );
  fill(
    byId("related-body"),
    el(
      "table",
      { class: "hits" },
      el("caption", { class: "visually-hidden" }, "Newest images of this user"),
      el("thead", {}, el("tr", {}, ["Title", "Status", "Likes", "Uploaded"].map((h, i) => el("th", { scope: "col", class: i === 2 ? "numeric" : null }, h)))),
      el("tbody", {}, rows),
    ),
    el("p", {}, el("a", { href: `?kind=images&owner=${encodeURIComponent(userId)}`, "data-nav": true }, `Show all ${formatNumber(page.total)} in the image search`)),
  );
}

function renderOwner(source) {
  fill(byId("related-title"), "Owner");
  const owner = source.owner;
  if (!owner) {
    fill(
      byId("related-body"),
      el("p", { class: "hint" }, `The owner (${display(source.owner_id)}) is unknown: deleted, or not synchronized yet.`),
    );
    return;
  }
  fill(
    byId("related-body"),
    el(
      "dl",
      { class: "fields" },
      el("dt", {}, "Name"),
      el("dd", {}, el("a", { id: "owner-link", href: `?kind=users&id=${encodeURIComponent(owner.user_id)}`, "data-nav": true }, owner.name || owner.user_id)),
      el("dt", {}, "E-mail"),
      el("dd", {}, display(owner.email)),
      el("dt", {}, "Plan"),
      el("dd", {}, display(owner.plan)),
      el("dt", {}, "Country"),
      el("dd", {}, display(owner.country)),
    ),
  );
}
