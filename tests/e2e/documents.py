"""A comparison of document sets that names what differs, document by document."""

from __future__ import annotations

from collections.abc import Mapping
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
