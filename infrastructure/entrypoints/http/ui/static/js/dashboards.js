// The dashboards: charts drawn from the API's facets and counts, one set of filters for all.
//
//   ?plan=pro&plan=team&country=DE&from=2024-01-01&to=2024-06-30&interval=week
//
// Two searches feed every chart: one over users (size 0: totals and facets only) and one
// over images (the ten most liked, with their facets). Plan and country filter users and
// the owners of images; the dates filter sign-ups and uploads.

import * as api from "./api.js";
import { byId, el, fill, formatMoney, formatNumber, formatPeriod } from "./dom.js";
import { clearError, showError, showSignOut } from "./status.js";

const INTERVALS = ["week", "month"];
const DAY_MS = 86_400_000;

export const LIFETIME_VALUE_RANGES = [
  { lt: 1, key: "$0" },
  { gte: 1, lt: 5_000, key: "under $50" },
  { gte: 5_000, lt: 10_000, key: "$50–$100" },
  { gte: 10_000, lt: 25_000, key: "$100–$250" },
  { gte: 25_000, lt: 50_000, key: "$250–$500" },
  { gte: 50_000, key: "$500 or more" },
];

// -- filters <-> URL <-> requests -----------------------------------------------------------

function isDate(value) {
  return /^\d{4}-\d{2}-\d{2}$/.test(value ?? "") && !Number.isNaN(Date.parse(value));
}

/** The dates in order: a From after the To is taken as the same range given backwards. */
export function inOrder(filters) {
  if (!filters.from || !filters.to || filters.from <= filters.to) return { ...filters, swapped: false };
  return { ...filters, from: filters.to, to: filters.from, swapped: true };
}

export function fromUrl(search = location.search) {
  const params = new URLSearchParams(search);
  const interval = params.get("interval");
  return inOrder({
    plans: [...new Set(params.getAll("plan").filter(Boolean))],
    country: params.get("country") || "",
    from: isDate(params.get("from")) ? params.get("from") : "",
    to: isDate(params.get("to")) ? params.get("to") : "",
    interval: INTERVALS.includes(interval) ? interval : "month",
  });
}

export function toUrl(filters) {
  const params = new URLSearchParams();
  for (const plan of filters.plans) params.append("plan", plan);
  if (filters.country) params.set("country", filters.country);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.interval !== "month") params.set("interval", filters.interval);
  const query = params.toString();
  return query ? `?${query}` : "";
}

function createdBetween(filters) {
  if (!filters.from && !filters.to) return null;
  const range = { type: "range", field: "created_at" };
  if (filters.from) range.gte = filters.from;
  if (filters.to) range.lt = new Date(Date.parse(filters.to) + DAY_MS).toISOString().slice(0, 10);
  return range;
}

function allOf(parts) {
  const present = parts.filter(Boolean);
  if (!present.length) return null;
  return present.length === 1 ? present[0] : { type: "and", filters: present };
}

/** The filter of the users charts; `prefix` is "owner." for the images charts. */
function filterFor(filters, prefix = "") {
  return allOf([
    filters.plans.length ? { type: "terms", field: `${prefix}plan`, values: filters.plans } : null,
    filters.country ? { type: "term", field: `${prefix}country`, value: filters.country } : null,
    createdBetween(filters),
  ]);
}

export function usersRequest(filters) {
  return {
    size: 0,
    highlight: null,
    filter: filterFor(filters),
    facets: {
      plan: { type: "terms", field: "plan", size: 10 },
      country: { type: "terms", field: "country", size: 15 },
      signups: { type: "date_histogram", field: "created_at", interval: filters.interval },
      lifetime_value: { type: "range", field: "lifetime_value_cents", ranges: LIFETIME_VALUE_RANGES },
      lifetime_value_stats: { type: "stats", field: "lifetime_value_cents" },
    },
  };
}

export function imagesRequest(filters) {
  return {
    size: 10,
    highlight: null,
    filter: filterFor(filters, "owner."),
    sort: [{ field: "like_count", order: "desc" }],
    facets: {
      uploads: { type: "date_histogram", field: "created_at", interval: filters.interval },
      likes: { type: "stats", field: "like_count" },
    },
  };
}

// -- charts ------------------------------------------------------------------------------------

const searchLink = (params) => `./?${new URLSearchParams(params)}`;

/** `text` in lines of about `width` characters, broken between words, at most `most` lines:
 * a long title beside a horizontal bar wraps instead of running off the canvas. */
export function wrapped(text, width = 22, most = 3) {
  const lines = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word.length > width ? `${word.slice(0, width - 1)}…` : word);
  }
  if (lines.length <= most) return lines;
  const kept = lines.slice(0, most);
  const end = kept[most - 1];
  kept[most - 1] = `${end.length < width ? end : end.slice(0, width - 1)}…`;
  return kept;
}

function buckets(facet) {
  return (facet?.buckets ?? []).map((b) => ({ key: String(b.key), value: b.count }));
}

const CHARTS = [
  {
    id: "plan",
    title: "Users by plan",
    unit: "users",
    points: ({ users }) => buckets(users.facets.plan),
    link: (key) => searchLink({ kind: "users", plan: key }),
  },
  {
    id: "country",
    title: "Users by country (top 15)",
    unit: "users",
    horizontal: true,
    points: ({ users }) => {
      const points = buckets(users.facets.country);
      const other = users.facets.country?.other_count ?? 0;
      return other ? [...points, { key: "Other countries", value: other }] : points;
    },
    link: (key) => (key === "Other countries" ? null : searchLink({ kind: "users", country: key })),
  },
  {
    id: "signups",
    title: "Sign-ups per {interval}",
    unit: "sign-ups",
    points: ({ users, filters }) =>
      buckets(users.facets.signups).map((p) => ({ ...p, label: formatPeriod(p.key, filters.interval) })),
  },
  {
    id: "uploads",
    title: "Uploads per {interval}",
    unit: "uploads",
    points: ({ images, filters }) =>
      buckets(images.facets.uploads).map((p) => ({ ...p, label: formatPeriod(p.key, filters.interval) })),
  },
  {
    id: "lifetime-value",
    title: "Users by lifetime value",
    unit: "users",
    points: ({ users }) => buckets(users.facets.lifetime_value),
  },
  {
    id: "top-images",
    title: "Top images by likes",
    unit: "likes",
    horizontal: true,
    points: ({ images }) =>
      images.hits.map((hit) => ({
        key: hit.id,
        label: hit.source.title || hit.id,
        lines: wrapped(hit.source.title || hit.id),
        value: hit.source.like_count,
      })),
    link: (key) => searchLink({ kind: "images", id: key }),
  },
];

const charts = new Map(); // id -> Chart

function palette() {
  const style = getComputedStyle(document.documentElement);
  return [1, 2, 3, 4, 5].map((n) => style.getPropertyValue(`--chart-${n}`).trim());
}

const titleOf = (definition, filters) => definition.title.replace("{interval}", filters.interval);

function layout() {
  const container = byId("charts");
  fill(
    container,
    CHARTS.map((chart) =>
      el(
        "figure",
        { class: "chart", id: `chart-${chart.id}` },
        el("figcaption", { id: `chart-${chart.id}-title` }, titleOf(chart, filters)),
        el("div", { class: "canvas-box" }, el("canvas", { role: "img" })),
        el("details", {}, el("summary", {}, "Data as a table"), el("table", {})),
      ),
    ),
  );
}

function draw(definition, points, filters, colour) {
  const figure = byId(`chart-${definition.id}`);
  const title = titleOf(definition, filters);
  figure.querySelector("figcaption").textContent = title;
  const canvas = figure.querySelector("canvas");
  const labels = points.map((p) => p.label ?? p.key);
  const drawn = points.map((p, i) => p.lines ?? labels[i]);
  const values = points.map((p) => p.value);
  canvas.setAttribute("aria-label", `${title}: ${points.map((p, i) => `${labels[i]} ${values[i]}`).join(", ") || "no data"}`);
  const existing = charts.get(definition.id);
  if (existing) {
    existing.data.labels = drawn;
    existing.data.datasets[0].data = values;
    existing.$points = points;
    existing.update("none");
  } else {
    const chart = new window.Chart(canvas, chartConfig(definition, drawn, values, colour));
    chart.$points = points;
    charts.set(definition.id, chart);
  }
  dataTable(figure.querySelector("table"), definition, points, labels);
}

function chartConfig(definition, labels, values, colour) {
  const [valueAxis, categoryAxis] = definition.horizontal ? ["x", "y"] : ["y", "x"];
  return {
    type: "bar",
    data: { labels, datasets: [{ label: definition.unit, data: values, backgroundColor: colour, borderRadius: 3 }] },
    options: {
      indexAxis: definition.horizontal ? "y" : "x",
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        [valueAxis]: { beginAtZero: true, ticks: { precision: 0 } },
        [categoryAxis]: { ticks: { autoSkip: !definition.horizontal } },
      },
      onClick: (event, elements, chart) => {
        const point = elements.length ? chart.$points[elements[0].index] : null;
        const href = point && definition.link?.(point.key);
        if (href) location.href = href;
      },
    },
  };
}

function dataTable(table, definition, points, labels) {
  fill(
    table,
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Value"), el("th", { scope: "col" }, definition.unit))),
    el(
      "tbody",
      {},
      points.map((point, i) => {
        const href = definition.link?.(point.key);
        return el(
          "tr",
          {},
          el("th", { scope: "row" }, href ? el("a", { href }, labels[i]) : labels[i]),
          el("td", {}, formatNumber(point.value)),
        );
      }),
    ),
  );
}

function kpis({ users, images }) {
  const value = users.facets.lifetime_value_stats;
  const likes = images.facets.likes;
  const items = [
    ["users", "Users", formatNumber(users.total)],
    ["images", "Images", formatNumber(images.total)],
    ["lifetime-value", "Lifetime value", formatMoney(value?.sum ?? 0)],
    ["likes", "Likes per image", likes?.count ? (likes.avg ?? 0).toFixed(1) : "—"],
  ];
  fill(
    byId("kpis"),
    items.map(([id, label, shown]) => el("div", { class: "kpi", id: `kpi-${id}` }, el("dt", {}, label), el("dd", {}, shown))),
  );
}

// -- filters form ------------------------------------------------------------------------------

let filters = fromUrl();

async function loadOptions() {
  const options = await api.search("users", {
    size: 0,
    highlight: null,
    facets: {
      plan: { type: "terms", field: "plan", size: 10 },
      country: { type: "terms", field: "country", size: 100 },
    },
  });
  const plans = buckets(options.facets.plan).map((b) => b.key).sort();
  for (const plan of filters.plans) if (!plans.includes(plan)) plans.push(plan);
  fill(
    byId("plan-filter"),
    el("legend", {}, "Plan"),
    plans.map((plan) =>
      el(
        "label",
        {},
        el("input", { type: "checkbox", name: "plan", value: plan, checked: filters.plans.includes(plan) }),
        ` ${plan}`,
      ),
    ),
  );
  const countries = buckets(options.facets.country).map((b) => b.key).sort();
  if (filters.country && !countries.includes(filters.country)) countries.push(filters.country);
  fill(
    byId("country"),
    el("option", { value: "" }, "All countries"),
    countries.map((country) => el("option", { value: country }, country)),
  );
  syncForm();
}

function syncForm() {
  for (const box of byId("plan-filter").querySelectorAll("input")) box.checked = filters.plans.includes(box.value);
  byId("country").value = filters.country;
  byId("from").value = filters.from;
  byId("to").value = filters.to;
  byId("interval").value = filters.interval;
}

function readForm() {
  return inOrder({
    plans: [...byId("plan-filter").querySelectorAll("input:checked")].map((box) => box.value),
    country: byId("country").value,
    from: isDate(byId("from").value) ? byId("from").value : "",
    to: isDate(byId("to").value) ? byId("to").value : "",
    interval: byId("interval").value,
  });
}

function noteSwap(swapped) {
  const note = byId("range-note");
  note.textContent = swapped ? "The From date was after the To date, so the two were swapped." : "";
  note.hidden = !swapped;
}

// -- fetching ----------------------------------------------------------------------------------

let running = false;
let again = false;

async function refresh() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  const asked = filters;
  const main = byId("dashboard");
  main.dataset.state = "loading";
  main.setAttribute("aria-busy", "true");
  try {
    const [users, images] = await Promise.all([
      api.search("users", usersRequest(asked)),
      api.search("images", imagesRequest(asked)),
    ]);
    if (!again) {
      clearError();
      const colours = palette();
      kpis({ users, images });
      CHARTS.forEach((chart, i) => draw(chart, chart.points({ users, images, filters: asked }), asked, colours[i % colours.length]));
      main.dataset.state = "ready";
      main.dataset.query = toUrl(asked);
    }
  } catch (error) {
    if (!again) {
      showError(error, start);
      main.dataset.state = "error";
    }
  } finally {
    running = false;
    main.removeAttribute("aria-busy");
    if (again) {
      again = false;
      refresh();
    }
  }
}

function apply(next, { push = true } = {}) {
  filters = next;
  if (push) history.pushState(null, "", toUrl(filters) || location.pathname);
  else if (next.swapped) history.replaceState(null, "", toUrl(filters) || location.pathname);
  noteSwap(next.swapped);
  syncForm();
  refresh();
}

function wire() {
  const form = byId("filters");
  form.addEventListener("change", () => apply(readForm()));
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    apply(fromUrl(""));
  });
  window.addEventListener("popstate", () => apply(fromUrl(), { push: false }));
}

async function start() {
  clearError();
  try {
    await loadOptions();
  } catch (error) {
    showError(error, start);
    byId("dashboard").dataset.state = "error";
    return;
  }
  refresh();
}

showSignOut();
history.replaceState(null, "", toUrl(filters) || location.pathname);
noteSwap(filters.swapped);
layout();
wire();
start();
