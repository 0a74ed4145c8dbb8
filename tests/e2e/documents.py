"""A comparison of document sets that names what differs, document by document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Documents = Mapping[str, Mapping[str, Mapping[str, Any]]]


def differences(found: Documents, expected: Documents, limit: int = 10) -> list[str]:
    problems: list[str] = []
    for kind in sorted(set(found) | set(expected)):
        have, want = found.get(kind, {}), expected.get(kind, {})
        problems += [f"{kind}/{doc_id}: missing" for doc_id in sorted(set(want) - set(have))]
        problems += [
            f"{kind}/{doc_id}: should not exist" for doc_id in sorted(set(have) - set(want))
        ]
        for doc_id in sorted(set(have) & set(want)):
            fields = sorted(set(have[doc_id]) | set(want[doc_id]))
            for field in fields:
                if have[doc_id].get(field) != want[doc_id].get(field):
                    problems.append(
                        f"{kind}/{doc_id}.{field}: {have[doc_id].get(field)!r}"
                        f" != expected {want[doc_id].get(field)!r}"
                    )
    return problems[:limit] + (
        [f"... {len(problems) - limit} more"] if len(problems) > limit else []
    )


def assert_same_documents(found: Documents, expected: Documents) -> None:
    problems = differences(found, expected)
    assert not problems, "documents differ from the fold of the tables:\n" + "\n".join(problems)


def searchable_documents(app: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Every live document of each kind, as the CRM's ``search KIND "" --all`` sees it."""
    from projections.documents import DocumentKind
    from projections.query import SearchRequest

    return {
        kind.value: {
            hit.id: hit.source
            for hit in app.search.search(kind, SearchRequest(every_document=True)).hits
        }
        for kind in DocumentKind
    }


_DOCUMENT_TABLES = (("users", "userId"), ("images", "imageId"))


def deleted_documents(
    events: Sequence[Mapping[str, Any]], final_items: Mapping[str, Sequence[Mapping[str, Any]]]
) -> set[tuple[str, str]]:
    """``(kind, id)`` of the users and images these Lambda events removed for good."""
    kept = {table: {item[key] for item in final_items[table]} for table, key in _DOCUMENT_TABLES}
    return {
        (table, doc_id)
        for event in events
        for record in event["Records"]
        if record["eventName"] == "REMOVE"
        for table, key in _DOCUMENT_TABLES
        if record["eventSourceARN"].split("/")[1] == table
        and (doc_id := record["dynamodb"]["Keys"][key]["S"]) not in kept[table]
    }


def assert_tombstones_hold(app: Any, deleted: set[tuple[str, str]]) -> None:
    """Each deleted document is a tombstone that a late write of an older version cannot undo."""
    from projections.documents import DocumentChange, DocumentKind

    for kind_name, doc_id in deleted:
        kind = DocumentKind(kind_name)
        stored = app.index.get(kind, doc_id)
        assert stored is not None and stored.body is None, f"{kind_name}/{doc_id}: no tombstone"
        late = DocumentChange(kind, doc_id, stored.version - 1, {"title": "resurrected"})
        assert app.index.write([late]).written == 0, f"{kind_name}/{doc_id}: resurrected"
