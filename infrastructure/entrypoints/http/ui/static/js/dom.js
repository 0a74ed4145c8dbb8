// Building the page from data without ever parsing data as HTML.
//
// Every value reaches the page as a text node (`el` turns strings into text nodes, never
// markup), so a name holding `<script>` shows as those characters. Highlight fragments
// are the one place where the API sends markup: they are split on the highlight tags and
// each piece is decoded and inserted as text, the matched words inside <mark> elements.

export const HIGHLIGHT = { pre_tag: "<mark>", post_tag: "</mark>" };

/** An element with attributes (`on*` functions become listeners) and text or node children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

const NAMED_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Undo the API's HTML escaping of highlight text (&amp;, &lt;, &#x27;, &#39;, ...). */
export function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16)
        : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** A highlight fragment as text nodes and <mark> elements. */
export function highlighted(fragment) {
  const out = document.createDocumentFragment();
  let rest = fragment;
  while (rest.length) {
    const start = rest.indexOf(HIGHLIGHT.pre_tag);
    if (start < 0) break;
    const end = rest.indexOf(HIGHLIGHT.post_tag, start + HIGHLIGHT.pre_tag.length);
    if (end < 0) break;
    out.append(decodeEntities(rest.slice(0, start)));
    out.append(el("mark", {}, decodeEntities(rest.slice(start + HIGHLIGHT.pre_tag.length, end))));
    rest = rest.slice(end + HIGHLIGHT.post_tag.length);
  }
  out.append(decodeEntities(rest));
  return out;
}

/** The highlighted value of `field` when the hit has one, else the plain value. */
export function shown(hit, field, value) {
  const fragments = hit.highlight?.[field];
  if (fragments?.length && typeof value === "string") return highlighted(fragments[0]);
  return document.createTextNode(display(value));
}

const numbers = new Intl.NumberFormat("en-US");
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const day = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC" });
const month = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", timeZone: "UTC" });

export const formatNumber = (n) => (n === null || n === undefined ? "—" : numbers.format(n));
export const formatMoney = (cents) => (cents === null || cents === undefined ? "—" : money.format(cents / 100));
export function formatDate(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? String(iso) : day.format(moment);
}
export function formatPeriod(iso, interval) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  return interval === "month" || interval === "year" ? month.format(moment) : day.format(moment);
}
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

/** Any document value as text: lists joined, null as a dash, objects as JSON. */
export function display(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.map(display).join(", ") : "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
