// What the screen shows of each kind of document: facets, sort orders, columns, fields.
// Field names are the API's (GET /v1/{kind}/fields lists them).

import { display, formatBytes, formatDate, formatMoney, formatNumber } from "./dom.js";

const yesNo = { true: "Opted in", false: "Not opted in" };

export const KINDS = {
  users: {
    label: "Users",
    singular: "user",
    idField: "user_id",
    titleField: "name",
    placeholder: "Name, e-mail, tag or bio — typos are fine",
    facets: [
      { field: "plan", label: "Plan", size: 10 },
      { field: "country", label: "Country", size: 8, more: 100 },
      { field: "marketing_opt_in", label: "Marketing opt-in", size: 2, names: yesNo },
      { field: "tags", label: "Tags", size: 8, more: 50 },
    ],
    sorts: [
      ["", "Best match"],
      ["created_at:desc", "Newest sign-ups"],
      ["created_at:asc", "Oldest sign-ups"],
      ["name:asc", "Name (A–Z)"],
      ["lifetime_value_cents:desc", "Highest lifetime value"],
      ["image_count:desc", "Most images"],
      ["last_upload_at:desc", "Latest upload"],
    ],
    columns: [
      { label: "Name", field: "name", link: "self" },
      { label: "E-mail", field: "email", highlight: true },
      { label: "Plan", field: "plan" },
      { label: "Country", field: "country" },
      { label: "Signed up", field: "created_at", format: formatDate, nowrap: true },
      { label: "Images", field: "image_count", format: formatNumber, numeric: true },
      { label: "Lifetime value", field: "lifetime_value_cents", format: formatMoney, numeric: true },
    ],
    fields: [
      ["user_id", "User id"],
      ["email", "E-mail"],
      ["plan", "Plan"],
      ["country", "Country"],
      ["created_at", "Signed up", formatDate],
      ["marketing_opt_in", "Marketing opt-in", (v) => yesNo[v] ?? display(v)],
      ["tags", "Tags"],
      ["bio", "Bio"],
      ["image_count", "Images", formatNumber],
      ["last_upload_at", "Last upload", formatDate],
      ["likes_received", "Likes received", formatNumber],
      ["likes_given", "Likes given", formatNumber],
      ["lifetime_value_cents", "Lifetime value", formatMoney],
      ["payment_count", "Payments", formatNumber],
    ],
  },
  images: {
    label: "Images",
    singular: "image",
    idField: "image_id",
    titleField: "title",
    placeholder: "Title, description, tag or owner — typos are fine",
    facets: [
      { field: "status", label: "Status", size: 5 },
      { field: "tags", label: "Tags", size: 8, more: 50 },
      { field: "owner.plan", label: "Owner's plan", size: 10 },
      { field: "owner.country", label: "Owner's country", size: 8, more: 100 },
    ],
    sorts: [
      ["", "Best match"],
      ["created_at:desc", "Newest uploads"],
      ["created_at:asc", "Oldest uploads"],
      ["like_count:desc", "Most liked"],
      ["title:asc", "Title (A–Z)"],
      ["size_bytes:desc", "Largest"],
    ],
    columns: [
      { label: "Title", field: "title", link: "self" },
      { label: "Owner", field: "owner.name", link: "owner" },
      { label: "Status", field: "status" },
      { label: "Likes", field: "like_count", format: formatNumber, numeric: true },
      { label: "Uploaded", field: "created_at", format: formatDate, nowrap: true },
      { label: "Tags", field: "tags", highlight: true },
    ],
    fields: [
      ["image_id", "Image id"],
      ["description", "Description"],
      ["status", "Status"],
      ["tags", "Tags"],
      ["created_at", "Uploaded", formatDate],
      ["like_count", "Likes", formatNumber],
      ["size_bytes", "Size", formatBytes],
      ["image_url", "Image URL"],
    ],
  },
};

export const KIND_NAMES = Object.keys(KINDS);

/** The value at a dotted path of a document (`owner.name`). */
export function valueAt(source, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), source);
}
