// The search screen: tabs, search as you type, facets, sorting, cursor paging, and the
// document pages. Everything goes through the public API (js/api.js).
//
// Requests are coalesced rather than debounced: at most one search is in flight; a change
// made meanwhile is sent as soon as it returns, and results that a newer change has made
// stale are not drawn. Keystroke-to-results times are recorded as User Timing measures
// named "streamfold:keystroke-to-results" (read by `streamfold bench ui`).

import * as api from "./api.js";
import { showDocument } from "./document.js";
import { byId, display, el, fill, formatNumber, highlighted, shown } from "./dom.js";
import { KINDS, KIND_NAMES, valueAt } from "./kinds.js";
import { fromUrl, pageRequest, sameQuery, selectedFacetRequests, toUrl } from "./query.js";
import { clearError, showError, showSignOut } from "./status.js";

export const KEYSTROKE_MEASURE = "streamfold:keystroke-to-results";
const SLOW_MS = 250;

let state = fromUrl();
const expanded = new Set(); // facets showing their longer list
let cursors = []; // cursors[p - 1]: the search_after of page p, for "Previous"
let lastPage = null;
let generation = 0; // bumped by every change of what to show
let running = false;
let again = false;
const keystrokes = []; // {generation, at}: typed, not yet rendered

const view = {
  input: byId("q"),
  results: byId("results"),
};

// -- navigation ----------------------------------------------------------------------------

function go(next, { replace = false } = {}) {
  const pagingOnly = sameQuery({ ...next, after: null, page: 1 }, { ...state, after: null, page: 1 });
  if (!pagingOnly || next.kind !== state.kind) cursors = [];
  state = next;
  const url = toUrl(state);
  if (url !== location.search) history[replace ? "replaceState" : "pushState"](null, "", url);
  route();
}

function route() {
  const showingDocument = Boolean(state.id);
  byId("search-view").hidden = showingDocument;
  byId("document-view").hidden = !showingDocument;
  if (showingDocument) {
    showDocument(state, { onError: (error) => showError(error, route) });
    return;
  }
  sessionStorage.setItem("streamfold.last-search", toUrl(state));
  syncControls();
  refresh();
}

function fresh(changes) {
  return { ...state, ...changes, id: null, after: null, page: 1 };
}

// -- controls --------------------------------------------------------------------------------

function syncControls() {
  // Typing calls this on every keystroke: only what changed is written, since each write
  // (a select's value, a placeholder, a label) makes the browser recompute style and layout.
  const kind = KINDS[state.kind];
  const sort = byId("sort");
  if (sort.dataset.kind !== state.kind) {
    for (const name of KIND_NAMES) {
      const tab = byId(`tab-${name}`);
      const selected = name === state.kind;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    byId("search-panel").setAttribute("aria-labelledby", `tab-${state.kind}`);
    byId("q-label").textContent = `Search ${kind.label.toLowerCase()}`;
    view.input.placeholder = kind.placeholder;
    fill(sort, kind.sorts.map(([key, label]) => el("option", { value: key }, label)));
    sort.dataset.kind = state.kind;
  }
  const title = `${kind.label} · streamfold CRM`;
  if (document.title !== title) document.title = title;
  if (view.input.value !== state.q) view.input.value = state.q;
  if (sort.value !== state.sort) sort.value = state.sort;
  const size = byId("size");
  if (size.value !== String(state.size)) size.value = String(state.size);
}

function wireControls() {
  view.input.addEventListener("input", (event) => {
    keystrokes.push({ generation: generation + 1, at: event.timeStamp });
    go(fresh({ q: view.input.value }), { replace: true });
  });
  byId("search-form").addEventListener("submit", (event) => event.preventDefault());
  byId("sort").addEventListener("change", (event) => go(fresh({ sort: event.target.value })));
  byId("size").addEventListener("change", (event) => go(fresh({ size: Number(event.target.value) })));
  const tabs = KIND_NAMES.map((name) => byId(`tab-${name}`));
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => switchKind(tab.dataset.kind));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const target = tabs[(moves[event.key] + tabs.length) % tabs.length];
      target.focus();
      switchKind(target.dataset.kind);
    });
  });
  byId("show-filters").addEventListener("click", () => {
    // On a phone the filters come after the results: bring them into view.
    const facets = byId("facets");
    facets.scrollIntoView({ block: "start" });
    facets.focus({ preventScroll: true });
  });
  byId("first-page").addEventListener("click", () => turnPage(1));
  byId("previous-page").addEventListener("click", () => turnPage(state.page - 1));
  byId("next-page").addEventListener("click", () => turnPage(state.page + 1));
  document.addEventListener("keydown", (event) => {
    const typing = document.activeElement?.matches(
      "input:not([type=checkbox]):not([type=radio]), select, textarea",
    );
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !state.id) {
      event.preventDefault();
      view.input.focus();
      view.input.select();
    }
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[data-nav]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    state = fromUrl(new URL(link.href).search);
    history.pushState(null, "", toUrl(state));
    cursors = [];
    route();
    window.scrollTo(0, 0);
  });
  window.addEventListener("popstate", () => {
    state = fromUrl();
    route();
  });
}

function switchKind(kind) {
  if (kind === state.kind) return;
  go({ ...fromUrl(`?kind=${kind}`), q: state.q, size: state.size });
}

function turnPage(page) {
  if (page <= 1) {
    go({ ...state, after: null, page: 1 });
  } else if (page > state.page) {
    cursors[state.page - 1] = state.after;
    go({ ...state, after: lastPage.next_cursor, page });
  } else {
    go({ ...state, after: cursors[page - 1], page });
  }
  view.results.focus({ preventScroll: true });
}

function toggle(field, value, on) {
  const values = new Set(state.filters[field] ?? []);
  if (on) values.add(value);
  else values.delete(value);
  const filters = { ...state.filters, [field]: [...values] };
  if (!values.size) delete filters[field];
  go(fresh({ filters }));
}

// -- fetching --------------------------------------------------------------------------------

function refresh() {
  generation += 1;
  if (running) {
    again = true;
    return;
  }
  run();
}

async function run() {
  running = true;
  const asked = generation;
  const snapshot = state;
  view.results.dataset.state = "loading";
  view.results.setAttribute("aria-busy", "true");
  // Dim the old results only when an answer is slow: repainting them on every keystroke
  // would cost the frame the new results need.
  const slow = setTimeout(() => view.results.setAttribute("data-slow", ""), SLOW_MS);
  try {
    const results = await fetchResults(snapshot);
    if (!again) {
      clearError();
      render(snapshot, results);
      settled(asked, snapshot, "ready");
    }
  } catch (error) {
    if (!again) {
      showError(error, refresh);
      if (lastPage) byId("total").append(el("span", { class: "stale" }, " (results of an earlier search)"));
      settled(asked, snapshot, "error");
    }
  } finally {
    clearTimeout(slow);
    view.results.removeAttribute("data-slow");
    running = false;
    if (again) {
      again = false;
      run();
    }
  }
}

async function fetchResults(snapshot) {
  const sides = selectedFacetRequests(snapshot, expanded).map(({ field, request }) =>
    api.search(snapshot.kind, request).then((answer) => [field, answer.facets[field]]),
  );
  const [page, ...selected] = await Promise.all([
    api.search(snapshot.kind, pageRequest(snapshot, expanded)),
    ...sides,
  ]);
  return { page, facets: { ...page.facets, ...Object.fromEntries(selected) } };
}

function settled(asked, snapshot, outcome) {
  view.results.dataset.state = outcome;
  view.results.dataset.query = toUrl(snapshot);
  view.results.removeAttribute("aria-busy");
  const done = keystrokes.filter((k) => k.generation <= asked);
  if (!done.length) return;
  keystrokes.splice(0, done.length);
  // After the next paint: the results are on the screen, not just in the DOM.
  requestAnimationFrame(() =>
    setTimeout(() => {
      const end = performance.now();
      for (const k of done) performance.measure(KEYSTROKE_MEASURE, { start: k.at, end });
    }, 0),
  );
}

// -- rendering -------------------------------------------------------------------------------

function render(snapshot, { page, facets }) {
  lastPage = page;
  renderTotal(snapshot, page.total, page.matched);
  renderChips(snapshot);
  renderFacets(snapshot, facets);
  renderHits(snapshot, page.hits);
  renderPager(snapshot, page);
}

// Said when the fallback answered, so partial matches are not read as exact ones.
const SOME_WORDS_NOTE = "No result had every word; showing results with some of them.";

function renderTotal(snapshot, total, matched) {
  const kind = KINDS[snapshot.kind];
  const noun = total === 1 ? kind.singular : kind.label.toLowerCase();
  const node = byId("total");
  node.dataset.total = String(total);
  fill(
    node,
    el("strong", {}, formatNumber(total)),
    ` ${noun}`,
    snapshot.q ? [" matching ", el("q", {}, snapshot.q)] : "",
    matched === "some_words" ? el("span", { class: "matched-note" }, ` ${SOME_WORDS_NOTE}`) : "",
  );
}

function renderChips(snapshot) {
  const chips = [];
  if (snapshot.owner) {
    chips.push(chip(`Owner: ${snapshot.owner}`, () => go(fresh({ owner: null }))));
  }
  for (const facet of KINDS[snapshot.kind].facets) {
    for (const value of snapshot.filters[facet.field] ?? []) {
      const label = `${facet.label}: ${facet.names?.[value] ?? value}`;
      chips.push(chip(label, () => toggle(facet.field, value, false)));
    }
  }
  if (chips.length > 1) {
    chips.push(
      el("button", { type: "button", class: "link", onclick: () => go(fresh({ filters: {}, owner: null })) }, "Clear all filters"),
    );
  }
  fill(byId("chips"), chips);
}

function chip(label, remove) {
  return el(
    "span",
    { class: "chip" },
    label,
    el("button", { type: "button", "aria-label": `Remove filter ${label}`, onclick: remove }, "×"),
  );
}

function renderFacets(snapshot, facets) {
  const container = byId("facets");
  const focused = document.activeElement?.dataset?.facetKey;
  const groups = KINDS[snapshot.kind].facets.map((facet) => facetGroup(snapshot, facet, facets[facet.field]));
  const back = el("button", { type: "button", class: "show-results", onclick: showResults }, "Show results");
  fill(container, el("h2", { class: "facets-title" }, "Filters"), groups, back);
  if (focused) container.querySelector(`[data-facet-key="${CSS.escape(focused)}"]`)?.focus();
}

/** Back from the filters to the results they chose (on a phone, the filters come after). */
function showResults() {
  view.results.scrollIntoView({ block: "start" });
  view.results.focus({ preventScroll: true });
}

function facetGroup(snapshot, facet, result) {
  const selected = snapshot.filters[facet.field] ?? [];
  const buckets = (result?.buckets ?? []).map((b) => ({ value: String(b.key), count: b.count }));
  for (const value of selected) {
    if (!buckets.some((b) => b.value === value)) buckets.push({ value, count: 0 });
  }
  const id = `facet-${facet.field.replace(".", "-")}`;
  const items = buckets.map(({ value, count }, n) => {
    const key = `${facet.field}=${value}`;
    const inputId = `${id}-${n}`;
    return el(
      "li",
      {},
      el("input", {
        type: "checkbox",
        id: inputId,
        checked: selected.includes(value),
        dataset: { facetKey: key, field: facet.field, value },
        onchange: (event) => toggle(facet.field, value, event.target.checked),
      }),
      el(
        "label",
        { for: inputId },
        el("span", { class: "facet-value" }, facet.names?.[value] ?? value),
        el("span", { class: "count", "aria-label": `${count} documents` }, formatNumber(count)),
      ),
    );
  });
  const unknown = result?.unknown_owner_count ?? 0;
  // Not a checkbox: no filter value selects "no owner"; the row is there so the counts add up.
  if (unknown > 0) {
    items.push(
      el(
        "li",
        { class: "unknown-owner" },
        el("span", { class: "facet-value hint" }, "Unknown owner"),
        el("span", { class: "count", "aria-label": `${unknown} documents` }, formatNumber(unknown)),
      ),
    );
  }
  const more = facet.more && ((result?.other_count ?? 0) > 0 || expanded.has(facet.field));
  return el(
    "fieldset",
    { class: "facet", id },
    el("legend", {}, facet.label),
    items.length ? el("ul", {}, items) : el("p", { class: "hint" }, "No values"),
    more
      ? el(
          "button",
          {
            type: "button",
            class: "link",
            "aria-expanded": String(expanded.has(facet.field)),
            "aria-label": `${expanded.has(facet.field) ? "Fewer" : "More"} values of ${facet.label}`,
            onclick: () => {
              if (expanded.has(facet.field)) expanded.delete(facet.field);
              else expanded.add(facet.field);
              refresh();
            },
          },
          expanded.has(facet.field) ? "Show fewer" : "Show more",
        )
      : null,
  );
}

function renderHits(snapshot, hits) {
  const kind = KINDS[snapshot.kind];
  fill(byId("hits-head"), kind.columns.map((c) => el("th", { scope: "col", class: cellClass(c) }, c.label)));
  byId("hits-caption").textContent = `${kind.label} matching the search`;
  fill(byId("hits-body"), hits.map((hit) => hitRow(snapshot, kind, hit)));
  const empty = byId("no-hits");
  empty.hidden = hits.length > 0;
  byId("hits").hidden = hits.length === 0;
  empty.textContent = hits.length ? "" : `No ${kind.label.toLowerCase()} match. Try fewer words or filters.`;
}

function hitRow(snapshot, kind, hit) {
  const shownFields = new Set(kind.columns.filter((c) => c.link || c.highlight).map((c) => c.field));
  return el(
    "tr",
    { dataset: { id: hit.id } },
    kind.columns.map((column, i) => {
      const value = valueAt(hit.source, column.field);
      let content;
      if (column.link === "self") {
        content = el("a", { href: `?kind=${snapshot.kind}&id=${encodeURIComponent(hit.id)}`, "data-nav": true }, shown(hit, column.field, value ?? hit.id));
      } else if (column.link === "owner") {
        const owner = hit.source.owner;
        content = owner
          ? el("a", { href: `?kind=users&id=${encodeURIComponent(owner.user_id)}`, "data-nav": true }, shown(hit, column.field, value))
          : el("span", { class: "hint" }, "unknown owner");
      } else if (column.highlight) {
        content = shown(hit, column.field, value);
      } else {
        content = column.format ? column.format(value) : display(value);
      }
      const cell = el(
        i === 0 ? "th" : "td",
        // data-label names the value where a narrow screen shows each row as a card.
        { scope: i === 0 ? "row" : null, class: cellClass(column), "data-label": i === 0 ? null : column.label },
        content,
      );
      if (i === 0) cell.append(matchedElsewhere(hit, shownFields));
      return cell;
    }),
  );
}

function cellClass(column) {
  return [column.numeric ? "numeric" : "", column.nowrap ? "nowrap" : ""].join(" ").trim() || null;
}

/** The fragments of matched fields that no column shows (bio, description, tags, ...). */
function matchedElsewhere(hit, shownFields) {
  const lines = Object.entries(hit.highlight ?? {})
    .filter(([field]) => !shownFields.has(field))
    .map(([field, fragments]) =>
      el("span", { class: "matched" }, `${field.replace("_", " ")}: `, fragments.slice(0, 2).map((f, i) => [i ? " … " : "", highlighted(f)])),
    );
  return lines.length ? el("div", { class: "matched-lines" }, lines) : "";
}

function renderPager(snapshot, page) {
  byId("pager").hidden = page.hits.length === 0 && snapshot.page <= 1;
  const first = (snapshot.page - 1) * snapshot.size + 1;
  const last = first + page.hits.length - 1;
  byId("page-info").textContent = page.hits.length
    ? `Page ${formatNumber(snapshot.page)}: ${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(page.total)}`
    : "";
  byId("first-page").disabled = snapshot.page <= 1;
  byId("previous-page").disabled = snapshot.page <= 1 || (snapshot.page > 2 && !cursors[snapshot.page - 2]);
  byId("next-page").disabled = !page.next_cursor || page.hits.length < snapshot.size;
}

// -- start -------------------------------------------------------------------------------------

wireControls();
showSignOut();
history.replaceState(null, "", toUrl(state));
route();
