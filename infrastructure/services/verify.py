"""Verify: the live index against the fold of the event store, or against the source tables.

Against the event store (the default), every document of the live index is compared with
what the projection rendered, and ``repair`` rewrites exactly the drifted documents.

Against the source tables (``--source dynamodb``), every document is compared, on the
fields the tables determine, with what a scan of the tables calls for. Each difference is
put down to its cause: the **index** (the event store agrees with the tables, so the index
drifted: ``repair`` rewrites it from the event store), or the **event store** (its fold
differs from the tables: a change never reached it, such as a stream record that was
never delivered). The latter is never written by ``repair``: no event justifies it. It
takes new events, from a replay of the stream or a new change of the item (see
docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.services.table_documents import TableDocuments, table_fields
from projections.documents import VERSION_STEP, DocumentChange, DocumentKind
from projections.ports import SearchIndex
from projections.query import SearchRequest
from projections.search import SearchService
from projections.sync import SearchSync

_PAGE = 5000
INDEX = "index"
EVENT_STORE = "event store"


@dataclass(frozen=True)
class Drift:
    kind: str
    doc_id: str
    problem: str  # missing | extra | differs
    fields: list[str] = field(default_factory=list)
    cause: str = INDEX  # index | event store (only against the source tables)


@dataclass
class VerifyReport:
    source: str = "eventstore"
    checked: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    repaired: int = 0
    unrepairable: list[str] = field(default_factory=list)
    items: dict[str, int] = field(default_factory=dict)  # scanned, against the tables
    unreadable: list[str] = field(default_factory=list)  # items the domain rejects
    documents_dead_lettered: int = 0  # repairs the search backend refused for good

    def count(self, problem: str) -> int:
        return sum(1 for d in self.drift if d.problem == problem)

    def caused_by(self, cause: str) -> list[Drift]:
        return [d for d in self.drift if d.cause == cause]

    @property
    def clean(self) -> bool:
        return not self.drift


class Verification:
    """Compares the live index with what it should hold, and repairs what drifted.

    >>> verification = Verification(projection_store, index, sync)
    >>> report = verification.against_event_store([DocumentKind.USERS], repair=True)
    >>> report.count("missing"), report.repaired
    (0, 0)
    """

    def __init__(
        self, projection_store: SqlProjectionStore, index: SearchIndex, sync: SearchSync
    ) -> None:
        self._projection_store = projection_store
        self._index = index
        self._search = SearchService(index)
        self._sync = sync

    def against_event_store(self, kinds: list[DocumentKind], repair: bool = False) -> VerifyReport:
        """Compare every document of the live index with the projection's rendering."""
        self._sync.flush()  # what is merely pending is not drift
        report = VerifyReport()
        for kind in kinds:
            expected = self._expected(kind)
            found = self._indexed(kind)
            report.checked[kind.value] = len(found)
            drift = _compare(kind, expected, found)
            report.drift += drift
            if repair and drift:
                self._repair(kind, expected, drift, report)
        return report

    def against_tables(
        self, kinds: list[DocumentKind], scan: TableDocuments, repair: bool = False
    ) -> VerifyReport:
        """Compare every document of the live index with what the scanned tables call for.

        >>> scan = scan_documents(boto3.client("dynamodb"), tables)
        >>> report = verification.against_tables(list(DocumentKind), scan)
        >>> [(d.doc_id, d.cause) for d in report.drift]
        [('u-42', 'event store')]
        """
        self._sync.flush()
        report = VerifyReport(source="dynamodb", items=scan.items, unreadable=scan.unreadable)
        for kind in kinds:
            expected = self._expected(kind)
            found = self._indexed(kind)
            report.checked[kind.value] = len(found)
            drift = [
                _with_cause(problem, kind, scan, expected)
                for problem in _compare_fields(kind, scan.documents[kind], found)
            ]
            report.drift += drift
            repairable = [d for d in drift if d.cause == INDEX]
            report.unrepairable += [f"{d.kind}/{d.doc_id}" for d in drift if d.cause != INDEX]
            if repair and repairable:
                self._repair(kind, expected, repairable, report)
        return report

    def _indexed(self, kind: DocumentKind) -> dict[str, dict[str, Any]]:
        page = self._search.search(kind, SearchRequest(every_document=True))
        return {hit.id: hit.source for hit in page.hits}

    def _expected(self, kind: DocumentKind) -> dict[str, DocumentChange]:
        rendered: dict[str, DocumentChange] = {}
        after = ""
        while page := self._projection_store.documents_page(kind, after, _PAGE):
            rendered.update((change.doc_id, change) for change in page)
            after = page[-1].doc_id
        return rendered

    def _repair(
        self,
        kind: DocumentKind,
        expected: dict[str, DocumentChange],
        drift: list[Drift],
        report: VerifyReport,
    ) -> None:
        # A rewrite must beat the version indexed now, and lose to every event to come.
        ceiling = (self._projection_store.head() + 1) * VERSION_STEP
        rewrites = []
        for problem in drift:
            indexed = self._index.get(kind, problem.doc_id)
            version = max(
                (indexed.version if indexed else 0) + 1,
                expected[problem.doc_id].version + 1 if problem.doc_id in expected else 1,
            )
            if version >= ceiling:
                report.unrepairable.append(f"{kind.value}/{problem.doc_id}")
                continue
            body = expected[problem.doc_id].body if problem.doc_id in expected else None
            rewrites.append(DocumentChange(kind, problem.doc_id, version, body))
        # Through the sync, so that a rewrite the backend refuses becomes a dead letter.
        outcome = self._sync.write(rewrites)
        report.repaired += outcome.written
        report.documents_dead_lettered += len(outcome.dead_lettered)


def _compare(
    kind: DocumentKind, expected: dict[str, DocumentChange], found: dict[str, dict[str, Any]]
) -> list[Drift]:
    bodies = {doc_id: c.body for doc_id, c in expected.items() if c.body is not None}
    return _differences(kind, bodies, found)


def _compare_fields(
    kind: DocumentKind, expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]
) -> list[Drift]:
    return _differences(
        kind,
        {doc_id: table_fields(kind, body) for doc_id, body in expected.items()},
        {doc_id: table_fields(kind, body) for doc_id, body in found.items()},
    )


def _differences(
    kind: DocumentKind, expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]
) -> list[Drift]:
    drift = []
    for doc_id, body in expected.items():
        if doc_id not in found:
            drift.append(Drift(kind.value, doc_id, "missing"))
        elif found[doc_id] != body:
            keys = sorted(set(found[doc_id]) | set(body))
            fields = [k for k in keys if found[doc_id].get(k) != body.get(k)]
            drift.append(Drift(kind.value, doc_id, "differs", fields))
    drift += [Drift(kind.value, doc_id, "extra") for doc_id in found if doc_id not in expected]
    return drift


def _with_cause(
    problem: Drift, kind: DocumentKind, scan: TableDocuments, expected: dict[str, DocumentChange]
) -> Drift:
    """Blame the index when the event store's rendering agrees with the tables."""
    table_body = scan.documents[kind].get(problem.doc_id)
    stored = expected.get(problem.doc_id)
    stored_body = None if stored is None else stored.body
    if table_body is None or stored_body is None:
        agrees = table_body is None and stored_body is None
    else:
        agrees = table_fields(kind, table_body) == table_fields(kind, stored_body)
    cause = INDEX if agrees else EVENT_STORE
    return Drift(problem.kind, problem.doc_id, problem.problem, problem.fields, cause)
