"""What one change of a document says: when, from which item, which fields, old and new."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.documents import DocumentKind
from projections.history.replay import Step, recorded_at
from projections.state import ImageRow, LikeRow, PaymentRow, StateTable, UserRow, WebTrafficRow


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # dotted for nested fields: ``owner.name``
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    position: int  # the event store's global position
    stream_position: int  # the aggregate's own version
    recorded_at: str
    table: str
    item_key: dict[str, str]
    event_type: str
    summary: str
    changes: list[FieldChange]
    related: list[dict[str, str]]  # other documents involved: {"kind", "id"}

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "stream_position": self.stream_position,
            "recorded_at": self.recorded_at,
            "table": self.table,
            "item_key": self.item_key,
            "event_type": self.event_type,
            "summary": self.summary,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "related": self.related,
        }


def history_entry(kind: DocumentKind, doc_id: str, step: Step) -> HistoryEntry:
    event = step.positioned.event
    row = step.after_row if step.after_row is not None else step.before_row
    table = "analytics" if step.table is StateTable.ANALYTICS else step.table.value
    return HistoryEntry(
        position=step.positioned.position,
        stream_position=int(event.originator_version),
        recorded_at=recorded_at(step.positioned).isoformat(),
        table=table,
        item_key=item_key(row),
        event_type=type(event).__qualname__,
        summary=_summary(kind, table, type(event).__name__),
        changes=field_changes(step.before, step.after),
        related=[r for r in _related(step) if r != {"kind": kind.value, "id": doc_id}],
    )


def _summary(kind: DocumentKind, table: str, event_name: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in event_name).strip()
    subject = {"users": "user", "images": "image", "likes": "like", "payments": "payment"}
    noun = subject.get(table, table)
    if kind is DocumentKind.IMAGES and table == "users":
        noun = "owner"
    return f"{noun} {words}"


def item_key(row: Any) -> dict[str, str]:
    if isinstance(row, UserRow):
        return {"userId": row.user_id}
    if isinstance(row, ImageRow):
        return {"imageId": row.image_id}
    if isinstance(row, LikeRow):
        return {"imageId": row.image_id, "userId": row.user_id}
    if isinstance(row, PaymentRow):
        return {"userId": row.user_id, "paymentId": row.payment_id}
    if isinstance(row, WebTrafficRow):
        return {"userId": row.user_id, "date": row.visited_on, "source": row.source}
    return {}


def _related(step: Step) -> list[dict[str, str]]:
    documents: list[tuple[str, str]] = []
    for row in (step.before_row, step.after_row):
        if isinstance(row, UserRow):
            documents.append(("users", row.user_id))
        elif isinstance(row, ImageRow):
            documents += [("images", row.image_id), ("users", row.owner_id)]
        elif isinstance(row, LikeRow):
            documents += [("images", row.image_id), ("users", row.user_id)]
        elif isinstance(row, PaymentRow | WebTrafficRow):
            documents.append(("users", row.user_id))
    unique = dict.fromkeys(documents)
    return [{"kind": kind, "id": doc_id} for kind, doc_id in unique]


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Each leaf field whose value differs, nested objects by dotted path.

    >>> [c.field for c in field_changes({"owner": {"name": "A"}}, {"owner": {"name": "B"}})]
    ['owner.name']
    """
    old, new = _flat(before), _flat(after)
    names = sorted(old.keys() | new.keys())
    return [FieldChange(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


def _flat(body: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in (body or {}).items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat
