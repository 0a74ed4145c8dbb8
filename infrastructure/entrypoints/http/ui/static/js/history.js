// A document's History tab: its changes as a timeline filtered by source table, the
// document as of a date beside today's with the differences marked, and the source items
// behind each derived value. Every value reaches the page as text (see dom.js).

import * as api from "./api.js";
import { byId, display, el, fill } from "./dom.js";

const PAGE_SIZE = 50;
const TABLES = ["users", "images", "likes", "payments", "analytics"];
const DERIVED = {
  users: ["image_count", "likes_received", "likes_given", "last_upload_at", "lifetime_value_cents", "payment_count"],
  images: ["like_count", "owner"],
};

let shown = null; // {kind, id, source, entries, cursor, hiddenTables}

/** Called by the document page once it has rendered a document. */
export function mountHistory(state, source) {
  shown = { kind: state.kind, id: state.id, source, entries: [], cursor: null, hiddenTables: new Set() };
  tabs();
  selectTab("details");
  markDerived();
  fill(byId("history-panel"));
  fill(byId("explanation"));
}

function tabs() {
  const bar = byId("document-tabs");
  fill(
    bar,
    el("button", { type: "button", role: "tab", id: "tab-details", onclick: () => selectTab("details") }, "Details"),
    el("button", { type: "button", role: "tab", id: "tab-history", "aria-controls": "history-panel", onclick: () => openHistory() }, "History"),
  );
}

function selectTab(name) {
  byId("tab-details").setAttribute("aria-selected", String(name === "details"));
  byId("tab-history").setAttribute("aria-selected", String(name === "history"));
  byId("document-fields").hidden = name !== "details";
  byId("related").hidden = name !== "details";
  byId("history-panel").hidden = name !== "history";
}

function markDerived() {
  for (const field of DERIVED[shown.kind]) {
    const value = document.querySelector(`#document-fields dd[data-field="${field}"]`);
    if (!value) continue;
    value.append(" ", el("button", { type: "button", class: "link why", dataset: { explain: field }, onclick: () => explain(field) }, "why?"));
  }
}

async function openHistory() {
  selectTab("history");
  const panel = byId("history-panel");
  fill(
    panel,
    el("h2", {}, "History"),
    asOfForm(),
    el("div", { id: "as-of-result" }),
    el("fieldset", { id: "history-filters", class: "history-filters" }, el("legend", {}, "Source tables")),
    el("ol", { id: "timeline", class: "timeline" }),
    el("button", { type: "button", id: "older-changes", hidden: true, onclick: () => loadPage() }, "Older changes"),
  );
  shown.entries = [];
  shown.cursor = null;
  await loadPage();
}

async function loadPage() {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (shown.cursor !== null) query.set("before", String(shown.cursor));
  const page = await api.history(shown.kind, shown.id, query);
  shown.entries.push(...page.entries);
  shown.cursor = page.next_cursor;
  byId("older-changes").hidden = page.next_cursor === null;
  renderFilters();
  renderTimeline();
}

function renderFilters() {
  const present = TABLES.filter((table) => shown.entries.some((entry) => entry.table === table));
  fill(
    byId("history-filters"),
    el("legend", {}, "Source tables"),
    present.map((table) =>
      el(
        "label",
        {},
        el("input", {
          type: "checkbox",
          name: "table",
          value: table,
          checked: !shown.hiddenTables.has(table),
          onchange: (event) => {
            if (event.target.checked) shown.hiddenTables.delete(table);
            else shown.hiddenTables.add(table);
            renderTimeline();
          },
        }),
        ` ${table}`,
      ),
    ),
  );
}

function renderTimeline() {
  const entries = shown.entries.filter((entry) => !shown.hiddenTables.has(entry.table));
  if (!entries.length) {
    fill(byId("timeline"), el("li", { class: "hint" }, "No change recorded."));
    return;
  }
  fill(byId("timeline"), entries.map(entryItem));
}

function entryItem(entry) {
  return el(
    "li",
    { class: "entry", dataset: { table: entry.table, position: String(entry.position) } },
    el("p", { class: "entry-head" }, el("time", { datetime: entry.recorded_at }, entry.recorded_at.replace("T", " ").slice(0, 19)), " ", el("strong", {}, entry.summary)),
    el("p", { class: "hint" }, `${entry.table} ${Object.entries(entry.item_key).map(([k, v]) => `${k}=${v}`).join(" ")} · ${entry.event_type} · position ${entry.position}`),
    el("ul", { class: "changes" }, entry.changes.map((change) => el("li", {}, el("code", {}, change.field), ": ", el("del", {}, display(change.old)), " → ", el("ins", {}, display(change.new))))),
    entry.related.length
      ? el("p", { class: "related-documents" }, "Also involves: ", entry.related.map((doc) => [el("a", { href: `?kind=${doc.kind}&id=${encodeURIComponent(doc.id)}`, "data-nav": true }, `${doc.kind === "users" ? "user" : "image"} ${doc.id}`), " "]))
      : null,
  );
}

function asOfForm() {
  return el(
    "form",
    {
      id: "as-of-form",
      class: "as-of",
      onsubmit: (event) => {
        event.preventDefault();
        compare(byId("as-of-date").value, byId("as-of-time").value);
      },
    },
    el("label", { for: "as-of-date" }, "Show the document as of "),
    el("input", { id: "as-of-date", type: "date", required: true }),
    " ",
    el("label", { for: "as-of-time", class: "visually-hidden" }, "time (UTC, optional)"),
    el("input", { id: "as-of-time", type: "time", step: "0.001", title: "UTC; the end of the day when empty" }),
    " UTC ",
    el("button", { type: "submit" }, "Compare with today"),
  );
}

async function compare(day, time) {
  const target = byId("as-of-result");
  const moment = `${day}T${time || "23:59:59.999"}Z`; // the end of that day without a time
  const label = time ? `${day} ${time} UTC` : `${day} (end of day, UTC)`;
  let then = null;
  try {
    then = (await api.documentAsOf(shown.kind, shown.id, moment)).source;
  } catch (error) {
    if (error.status !== 404) throw error;
    fill(target, el("p", { class: "hint", id: "as-of-missing" }, error.message));
    return;
  }
  const now = flat(shown.source);
  const past = flat(then);
  const fields = [...new Set([...Object.keys(past), ...Object.keys(now)])];
  fill(
    target,
    el(
      "table",
      { class: "hits as-of-table", id: "as-of-table" },
      el("caption", {}, `As of ${label} and today`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, label), el("th", { scope: "col" }, "Today"))),
      el(
        "tbody",
        {},
        fields.map((field) => {
          const changed = JSON.stringify(past[field]) !== JSON.stringify(now[field]);
          return el("tr", { class: changed ? "changed" : null, dataset: { field } }, el("th", { scope: "row" }, field), el("td", {}, display(past[field])), el("td", {}, display(now[field])));
        }),
      ),
    ),
  );
}

function flat(source, prefix = "") {
  const out = {};
  for (const [key, value] of Object.entries(source ?? {})) {
    if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(out, flat(value, `${prefix}${key}.`));
    else out[`${prefix}${key}`] = value;
  }
  return out;
}

async function explain(field) {
  const answer = await api.explain(shown.kind, shown.id, field);
  const items = answer.items.map((item) =>
    el("li", {}, `${item.table} `, itemLink(item), ` counts ${display(item.counts)}`),
  );
  fill(
    byId("explanation"),
    el("h2", {}, `Why ${field} is ${display(answer.value)}`),
    items.length ? el("ul", { id: "explanation-items" }, items) : el("p", { class: "hint" }, "No source item counts toward it."),
  );
  byId("explanation").scrollIntoView({ block: "nearest" });
}

function itemLink(item) {
  const key = item.item_key;
  const target = item.table === "users" || item.table === "payments" ? ["users", key.userId] : ["images", key.imageId];
  const label = Object.entries(key).map(([k, v]) => `${k}=${v}`).join(" ");
  return el("a", { href: `?kind=${target[0]}&id=${encodeURIComponent(target[1])}`, "data-nav": true }, label);
}
