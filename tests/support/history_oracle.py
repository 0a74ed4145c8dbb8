"""The changes each document went through, derived from the delivered stream records alone.

The oracle keeps every item's state as its newest delivered record left it (a record no
newer than the last one applied to its item is a duplicate or a stale retry and changes
nothing) and computes the documents with the reference rules (`tests.support.reference`)
after each item's records in a delivered batch. A batch is recorded as one write in which
each item's events follow each other, items in the order the batch first names them, so
that is the order in which the oracle applies them. It shares no code with the
projection, the feed index or the history replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tests.support.delivery import table_of
from tests.support.reference import Documents, expected_documents

Key = tuple[tuple[str, str], ...]
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class Change:
    """Some changes of one item that changed a document, and the document after them."""

    table: str
    item_key: dict[str, str]
    document: dict[str, Any]  # flat (dotted nested fields), without null fields


@dataclass
class HistoryOracle:
    kinds: Mapping[str, str]  # real table name -> kind
    states: dict[str, dict[Key, dict[str, Any]]] = field(default_factory=dict)
    sequence: dict[tuple[str, Key], int] = field(default_factory=dict)
    documents: Documents = field(default_factory=lambda: {"users": {}, "images": {}})
    changes: dict[tuple[str, str], list[Change]] = field(default_factory=dict)
    expiries: int = 0  # TTL deletes applied

    def deliver(self, event: Mapping[str, Any]) -> None:
        """One Lambda event, as a handler that returned success recorded it."""
        touched: dict[tuple[str, Key], list[Mapping[str, Any]]] = {}
        for record in event["Records"]:
            kind = self.kinds[table_of(record)]
            change = record["dynamodb"]
            keys = {n: str(_DESERIALIZER.deserialize(v)) for n, v in change["Keys"].items()}
            key: Key = tuple(sorted(keys.items()))
            number = int(change["SequenceNumber"])
            if number <= self.sequence.get((kind, key), -1):
                continue  # a duplicate or a stale retry
            self.sequence[(kind, key)] = number
            touched.setdefault((kind, key), []).append(record)
        for (kind, key), records in touched.items():
            for record in records:
                self._apply(kind, key, record)
            self._changed(kind, dict(key))

    def _apply(self, kind: str, key: Key, record: Mapping[str, Any]) -> None:
        table = self.states.setdefault(kind, {})
        if record["eventName"] == "REMOVE":
            table.pop(key, None)
            self.expiries += record.get("userIdentity") == TTL_IDENTITY
            return
        image = record["dynamodb"]["NewImage"]
        table[key] = {n: _DESERIALIZER.deserialize(v) for n, v in image.items()}

    def _changed(self, kind: str, item_key: dict[str, str]) -> None:
        documents = expected_documents({k: list(v.values()) for k, v in self.states.items()})
        for doc_kind in ("users", "images"):
            before, after = self.documents[doc_kind], documents[doc_kind]
            for doc_id in before.keys() | after.keys():
                old, new = flat(before.get(doc_id)), flat(after.get(doc_id))
                if old != new:
                    timeline = self.changes.setdefault((doc_kind, doc_id), [])
                    timeline.append(Change(kind, item_key, new))
        self.documents = documents

    def timeline(self, kind: str, doc_id: str) -> list[Change]:
        """The document's changes, consecutive changes by one item taken together."""
        return merged(self.changes.get((kind, doc_id), []))


def merged(changes: list[Change]) -> list[Change]:
    """Consecutive changes by one item as one; those that left the document as it was
    (an image that came and went within one batch) left out."""
    together: list[Change] = []
    for change in changes:
        last = together[-1] if together else None
        if last is not None and (last.table, last.item_key) == (change.table, change.item_key):
            together.pop()
        previous = together[-1].document if together else {}
        if change.document != previous:
            together.append(change)
    return together


def flat(body: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """Leaf fields by dotted path, null ones left out (an absent document is empty)."""
    fields: dict[str, Any] = {}
    for name, value in (body or {}).items():
        if isinstance(value, Mapping):
            fields.update(flat(value, f"{prefix}{name}."))
        elif value is not None:
            fields[f"{prefix}{name}"] = value
    return fields


# The fields a document takes from its own item alone (the product brief's contract).
OWN_FIELDS = {
    "users": ("user_id", "email", "name", "plan", "country", "created_at",
              "marketing_opt_in", "tags", "bio"),
    "images": ("image_id", "title", "description", "tags", "image_url", "created_at",
               "status", "size_bytes"),
}  # fmt: skip
_KEY_OF = {"users": "userId", "images": "imageId"}


def own_states(
    delivered: Sequence[Mapping[str, Any]], kinds: Mapping[str, str], kind: str
) -> dict[str, list[dict[str, Any]]]:
    """Each document's own fields after each distinct change of its item, in the item's
    stream order, whatever order the records were delivered in: the states a history may
    show (a change overtaken by a newer one before it arrived is skipped)."""
    records: dict[str, dict[int, Mapping[str, Any]]] = {}
    for event in delivered:
        for record in event["Records"]:
            if kinds[table_of(record)] != kind:
                continue
            change = record["dynamodb"]
            doc_id = str(_DESERIALIZER.deserialize(change["Keys"][_KEY_OF[kind]]))
            records.setdefault(doc_id, {})[int(change["SequenceNumber"])] = record
    states: dict[str, list[dict[str, Any]]] = {}
    for doc_id, by_number in records.items():
        sequence: list[dict[str, Any]] = [{}]
        for number in sorted(by_number):
            record = by_number[number]
            fields: dict[str, Any] = {}
            if record["eventName"] != "REMOVE":
                item = {
                    n: _DESERIALIZER.deserialize(v)
                    for n, v in record["dynamodb"]["NewImage"].items()
                }
                document = expected_documents({kind: [item]})[kind][doc_id]
                fields = {n: v for n, v in flat(document).items() if n in OWN_FIELDS[kind]}
            if fields != sequence[-1]:
                sequence.append(fields)
        states[doc_id] = sequence
    return states
