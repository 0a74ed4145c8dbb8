// The whole search as a URL (so a search can be shared) and as API requests.
//
//   ?kind=users&q=ada&plan=pro&plan=team&sort=created_at:desc&size=20&after=<cursor>&page=2
//   ?kind=images&owner=usr_42            that user's images
//   ?kind=users&id=usr_42                one document
//
// Values of one facet are ORed, facets are ANDed. Facet counts are disjunctive: a facet
// with a selection is counted without its own selection (a second, size-0 search), so
// its other values keep their counts and can be added.

import { HIGHLIGHT } from "./dom.js";
import { KINDS } from "./kinds.js";

export const PAGE_SIZES = [20, 50, 100];

export function fromUrl(search = location.search) {
  const params = new URLSearchParams(search);
  const kind = KINDS[params.get("kind")] ? params.get("kind") : "users";
  const filters = {};
  for (const facet of KINDS[kind].facets) {
    const values = params.getAll(facet.field).filter(Boolean);
    if (values.length) filters[facet.field] = [...new Set(values)];
  }
  const size = Number(params.get("size"));
  const page = Number(params.get("page"));
  return {
    kind,
    id: params.get("id") || null,
    q: params.get("q") ?? "",
    filters,
    owner: kind === "images" ? params.get("owner") || null : null,
    sort: KINDS[kind].sorts.some(([key]) => key === params.get("sort")) ? params.get("sort") : "",
    size: PAGE_SIZES.includes(size) ? size : PAGE_SIZES[0],
    after: params.get("after") || null,
    page: Number.isInteger(page) && page > 1 && params.get("after") ? page : 1,
  };
}

export function toUrl(state) {
  const params = new URLSearchParams();
  params.set("kind", state.kind);
  if (state.id) {
    params.set("id", state.id);
    return `?${params}`;
  }
  if (state.q) params.set("q", state.q);
  for (const facet of KINDS[state.kind].facets) {
    for (const value of state.filters[facet.field] ?? []) params.append(facet.field, value);
  }
  if (state.owner) params.set("owner", state.owner);
  if (state.sort) params.set("sort", state.sort);
  if (state.size !== PAGE_SIZES[0]) params.set("size", String(state.size));
  if (state.after) {
    params.set("after", state.after);
    params.set("page", String(state.page));
  }
  return `?${params}`;
}

/** The filter of the state's facets (all but `except`) and owner, or null. */
export function filterOf(state, except = null) {
  const parts = [];
  for (const facet of KINDS[state.kind].facets) {
    const values = state.filters[facet.field] ?? [];
    if (facet.field !== except && values.length) {
      parts.push({ type: "terms", field: facet.field, values });
    }
  }
  if (state.owner) parts.push({ type: "term", field: "owner.user_id", value: state.owner });
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : { type: "and", filters: parts };
}

function sortKeys(sort) {
  if (!sort) return [];
  const [field, order] = sort.split(":");
  return [{ field, order }];
}

function facetSpec(facet, expanded) {
  return { type: "terms", field: facet.field, size: expanded.has(facet.field) ? facet.more : facet.size };
}

/** The page's search: text as typed (the last word as a prefix), filters, sort, page, facets. */
export function pageRequest(state, expanded) {
  const facets = {};
  for (const facet of KINDS[state.kind].facets) {
    if (!state.filters[facet.field]?.length) facets[facet.field] = facetSpec(facet, expanded);
  }
  const request = {
    text: state.q,
    prefix: true,
    filter: filterOf(state),
    sort: sortKeys(state.sort),
    size: state.size,
    highlight: HIGHLIGHT,
    facets,
  };
  if (state.after) request.search_after = state.after;
  return request;
}

/** One size-0 search per facet with a selection, counting it without its own selection. */
export function selectedFacetRequests(state, expanded) {
  return KINDS[state.kind].facets
    .filter((facet) => state.filters[facet.field]?.length)
    .map((facet) => ({
      field: facet.field,
      request: {
        text: state.q,
        prefix: true,
        filter: filterOf(state, facet.field),
        // Only the counts are wanted: sorting by id spares the backend the ranking.
        sort: [{ field: KINDS[state.kind].idField, order: "asc" }],
        size: 0,
        highlight: null,
        facets: { [facet.field]: facetSpec(facet, expanded) },
      },
    }));
}

/** Whether two states ask for the same results (the page and its facets). */
export const sameQuery = (a, b) => toUrl(a) === toUrl(b);
