"""Verify: the live index against the fold of the event store, and repair of the drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infrastructure.composition import Streamfold
from projections.documents import VERSION_STEP, DocumentChange, DocumentKind
from projections.query import SearchRequest

_PAGE = 5000


@dataclass(frozen=True)
class Drift:
    kind: str
    doc_id: str
    problem: str  # missing | extra | differs
    fields: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    checked: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    repaired: int = 0
    unrepairable: list[str] = field(default_factory=list)

    def count(self, problem: str) -> int:
        return sum(1 for d in self.drift if d.problem == problem)

    @property
    def clean(self) -> bool:
        return not self.drift


def verify(app: Streamfold, kinds: list[DocumentKind], repair: bool = False) -> VerifyReport:
    """Compare every document of the live index with the projection's rendering.

    >>> report = verify(app, [DocumentKind.USERS], repair=True)
    >>> report.count("missing"), report.repaired
    (0, 0)
    """
    app.sync.flush()  # what is merely pending is not drift
    report = VerifyReport()
    for kind in kinds:
        expected = _expected(app, kind)
        found = {
            hit.id: hit.source
            for hit in app.search.search(kind, SearchRequest(every_document=True)).hits
        }
        report.checked[kind.value] = len(found)
        drift = _compare(kind, expected, found)
        report.drift += drift
        if repair and drift:
            _repair(app, kind, expected, drift, report)
    return report


def _expected(app: Streamfold, kind: DocumentKind) -> dict[str, DocumentChange]:
    rendered: dict[str, DocumentChange] = {}
    after = ""
    while page := app.projection_store.documents_page(kind, after, _PAGE):
        rendered.update((change.doc_id, change) for change in page)
        after = page[-1].doc_id
    return rendered


def _compare(
    kind: DocumentKind, expected: dict[str, DocumentChange], found: dict[str, dict[str, Any]]
) -> list[Drift]:
    drift = []
    for doc_id, change in expected.items():
        if change.body is None:
            continue
        if doc_id not in found:
            drift.append(Drift(kind.value, doc_id, "missing"))
        elif found[doc_id] != change.body:
            keys = sorted(set(found[doc_id]) | set(change.body))
            fields = [k for k in keys if found[doc_id].get(k) != change.body.get(k)]
            drift.append(Drift(kind.value, doc_id, "differs", fields))
    for doc_id in found:
        if doc_id not in expected or expected[doc_id].body is None:
            drift.append(Drift(kind.value, doc_id, "extra"))
    return drift


def _repair(
    app: Streamfold,
    kind: DocumentKind,
    expected: dict[str, DocumentChange],
    drift: list[Drift],
    report: VerifyReport,
) -> None:
    # A rewrite must beat the version indexed now, and lose to every event to come.
    ceiling = (app.event_store.head() + 1) * VERSION_STEP
    rewrites = []
    for problem in drift:
        indexed = app.index.get(kind, problem.doc_id)
        version = max(
            (indexed.version if indexed else 0) + 1,
            expected[problem.doc_id].version + 1 if problem.doc_id in expected else 1,
        )
        if version >= ceiling:
            report.unrepairable.append(f"{kind.value}/{problem.doc_id}")
            continue
        body = expected[problem.doc_id].body if problem.doc_id in expected else None
        rewrites.append(DocumentChange(kind, problem.doc_id, version, body))
    outcome = app.index.write(rewrites)
    report.repaired += outcome.written
