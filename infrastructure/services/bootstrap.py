"""Bootstrap: load existing DynamoDB tables into the event store, then hand over to the stream.

Every scanned item is imported as a change at stream position 0, below any position a
stream record can have. The per-item position guard then settles every race with the
stream: an item whose change the stream already applied keeps it (the import is stale and
yields nothing), an item the stream deleted stays deleted, and any stream record that
arrives after the import is newer and applies. Enable the table's stream before the scan
starts, so that every change made during the scan reaches the stream.

Into a store whose projection has folded nothing, the bootstrap records every item (the
command's second process recording every page it is free to take) and then builds the
documents once, as a rebuild does (`FirstBuild`, ADR 0030); into any other it settles the
items a group at a time while it reads the next pages (ADR 0024).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.types import TypeDeserializer

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter
from infrastructure.services.background_settle import PAGES_AT_ONCE
from infrastructure.services.grouping import GROUP_RECORDS, SettleGroups
from infrastructure.services.write_pipeline import IncomingChange, PipelineReport, WritePipeline

if TYPE_CHECKING:
    from infrastructure.services.rebuild import Stage
    from infrastructure.services.rebuilding.first_build import FirstBuild

IMPORT_POSITION = StreamPosition.of(0)
Progress = Callable[[str, int], None]  # (table, items imported so far)


@dataclass
class BootstrapReport:
    items: dict[str, int] = field(default_factory=dict)
    events_recorded: int = 0
    already_newer: int = 0  # items whose stream changes had already been applied
    rejected: int = 0  # items the domain rejects, dead-lettered
    documents_written: int = 0
    documents_dead_lettered: int = 0  # refused by the search backend for good
    built_into: int | None = None  # the generation a first build made live (ADR 0030)
    pages_in_second_process: int = 0  # Scan pages the second process recorded meanwhile

    def add(self, other: BootstrapReport) -> None:
        """Count in what another part of the import (a page recorded elsewhere) did."""
        for table, count in other.items.items():
            self.items[table] = self.items.get(table, 0) + count
        self.events_recorded += other.events_recorded
        self.already_newer += other.already_newer
        self.rejected += other.rejected


class PageRecorder(Protocol):
    """A second process that records pages of items (`ProcessSettler`)."""

    def prepare(self) -> None:
        """Start the process now, so that it has imported when the first page comes."""
        ...

    @property
    def pages_asked(self) -> int:
        """Pages handed over whose report has not been collected."""
        ...

    def done(self) -> bool:
        """Whether the answer to the oldest work handed over (a page's report, or a
        slice's) is there to collect."""
        ...

    def begin_page(self, kind: TableKind, page: list[dict[str, Any]]) -> None: ...

    def finish_page(self) -> BootstrapReport: ...


class Recording(Protocol):
    """Where a bootstrap's batches go: `SettleGroups`, or `RecordOnly` for a first build."""

    @property
    def settled(self) -> PipelineReport: ...

    def record(self, records: list[IncomingChange], report: PipelineReport) -> None: ...


def record_page(
    pipeline: WritePipeline, kind: TableKind, page: list[dict[str, Any]]
) -> BootstrapReport:
    """Record one Scan page (DynamoDB JSON items) and settle nothing (what a second
    process does with a page it takes during a first build)."""
    deserializer = TypeDeserializer()
    items = ({name: deserializer.deserialize(v) for name, v in raw.items()} for raw in page)
    return import_items(pipeline, kind, items, groups=RecordOnly(pipeline))


# Items a bootstrap records alone before it shares pages with a second process: a small
# table set is recorded before that process would have started (about a second).
SHARE_AFTER_ITEMS = 5_000


class _SharedPages:
    """Hands a page to the second process whenever it is free, and counts what it did."""

    def __init__(self, recorder: PageRecorder, share_after: int = SHARE_AFTER_ITEMS) -> None:
        self._recorder = recorder
        self._share_after = share_after
        self._items = 0  # in the pages seen so far
        self.report = BootstrapReport()
        self.pages = 0

    def take(self, kind: TableKind, page: list[dict[str, Any]]) -> bool:
        """Whether the second process took the page (else the command records it)."""
        recorder = self._recorder
        self._items += len(page)
        if self._items < self._share_after:
            if self._items >= self._share_after // 2:
                recorder.prepare()  # half way: have it ready when the sharing starts
            return False
        while recorder.pages_asked and recorder.done():
            self.report.add(recorder.finish_page())
        if recorder.pages_asked >= PAGES_AT_ONCE:
            return False  # busy with one page and holding the next
        recorder.begin_page(kind, page)
        self.pages += 1
        return True

    def finish(self) -> BootstrapReport:
        while self._recorder.pages_asked:
            self.report.add(self._recorder.finish_page())
        return self.report


class RecordOnly:
    """Records each batch and settles none: a first build folds every event at the end.

    The events stay in memory while fewer than ``keep_below`` are recorded, for a settle
    of them all as one group if the build does not take place; past that, they are let
    go of, and the build reads them back from the store.
    """

    def __init__(self, pipeline: WritePipeline, keep_below: int = 0) -> None:
        self._pipeline = pipeline
        self._keep_below = keep_below
        self._recorded = 0
        self.settled = PipelineReport()  # nothing is settled while recording

    def record(self, records: list[IncomingChange], report: PipelineReport) -> None:
        before = report.events_recorded
        self._pipeline.record(records, report)
        self._recorded += report.events_recorded - before
        if self._recorded >= self._keep_below:
            self._pipeline.handing_over()


_PAGES_AHEAD = 2  # pages each segment may scan ahead of the import: bounded memory


def scan_segments(
    client: Any, table: str, segments: int
) -> Generator[list[dict[str, Any]], None, None]:
    """Pages of a parallel Scan (one thread per segment), as DynamoDB JSON items.

    Pages are handed over as they arrive, so the import works while the next pages are
    read, and memory holds a few pages per segment, never the whole table. A failed Scan
    call ends the iteration with its error; leaving the iteration early stops the scan.
    """
    pages: queue.Queue[list[dict[str, Any]] | _SegmentEnd] = queue.Queue(
        maxsize=_PAGES_AHEAD * segments
    )
    stopped = threading.Event()

    def hand_over(item: list[dict[str, Any]] | _SegmentEnd) -> bool:
        while not stopped.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def scan(segment: int) -> None:
        arguments: dict[str, Any] = {
            "TableName": table,
            "Segment": segment,
            "TotalSegments": segments,
            "ConsistentRead": True,
        }
        failure: Exception | None = None
        try:
            while not stopped.is_set():
                page = client.scan(**arguments)
                if not hand_over(page.get("Items", [])):
                    return
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except Exception as error:  # noqa: BLE001 - handed to the reader, which raises it
            failure = error
        finally:  # the reader counts the segments' ends: every segment hands one over
            hand_over(_SegmentEnd(failure))

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix=f"scan-{table}") as pool:
        for segment in range(segments):
            pool.submit(scan, segment)
        try:
            running = segments
            while running:
                item = pages.get()
                if isinstance(item, _SegmentEnd):
                    running -= 1
                    if item.error is not None:
                        raise item.error
                    continue
                yield item
        finally:
            stopped.set()


@dataclass(frozen=True)
class _SegmentEnd:
    error: BaseException | None


def import_items(
    pipeline: WritePipeline,
    kind: TableKind,
    items: Iterable[Mapping[str, Any]],
    batch_size: int = 1000,
    groups: Recording | None = None,
) -> BootstrapReport:
    """Record deserialized items of one table as import changes (position 0).

    With ``groups`` the batches are settled a group at a time as they are recorded.
    """
    report = BootstrapReport()
    batch: list[SourceChange] = []
    count = 0
    key_of = _key_reader(kind)
    prefix = f"bootstrap:{kind}:"
    insert = ChangeType.INSERT
    for item in items:
        key = key_of(item)
        batch.append(SourceChange(kind, key, insert, item, IMPORT_POSITION, prefix + str(key)))
        count += 1
        if len(batch) >= batch_size:
            _record(pipeline, batch, report, groups)
            batch = []
    _record(pipeline, batch, report, groups)
    report.items[kind.value] = count
    return report


def _key_reader(kind: TableKind) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """An item's key: the text of each key attribute ("" for a missing one)."""
    names = kind.key_attributes
    if len(names) == 1:
        [name] = names

        def single(item: Mapping[str, Any]) -> tuple[str, ...]:
            value = item.get(name, "")
            return (value if type(value) is str else str(value),)

        return single
    if len(names) == 2:
        first, second = names

        def pair(item: Mapping[str, Any]) -> tuple[str, ...]:
            return (str(item.get(first, "")), str(item.get(second, "")))

        return pair

    def several(item: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(item.get(attribute, "")) for attribute in names)

    return several


def _record(
    pipeline: WritePipeline,
    batch: list[SourceChange],
    report: BootstrapReport,
    groups: Recording | None,
) -> None:
    if not batch:
        return
    recorded = PipelineReport()
    incoming = [IncomingChange(c, None, partial(_letter, c)) for c in batch]
    if groups is None:
        pipeline.record(incoming, recorded)
        refused_documents = 0
    else:
        before = groups.settled.dead_lettered
        groups.record(incoming, recorded)  # may settle the group: its documents count too
        refused_documents = groups.settled.dead_lettered - before
    report.events_recorded += recorded.events_recorded
    report.already_newer += recorded.duplicates
    report.rejected += recorded.dead_lettered - refused_documents
    report.documents_written += recorded.documents_written
    report.documents_dead_lettered += refused_documents


def _letter(change: SourceChange, reason: str) -> NewDeadLetter:
    return NewDeadLetter(
        source="bootstrap",
        table_name=change.kind.value,
        reason=reason,
        raw={"item": dict(change.item or {})},
        letter_id=f"bootstrap:{change.item_key}",
    )


def bootstrap(
    pipeline: WritePipeline,
    client: Any,
    tables: Mapping[TableKind, str],
    segments: int = 4,
    progress: Progress | None = None,
    first_build: FirstBuild | None = None,
    stage: Stage | None = None,
    share_after_items: int = SHARE_AFTER_ITEMS,
) -> BootstrapReport:
    """Scan every table in parallel segments and import its items; on return they are
    searchable. With ``first_build`` and a store whose projection has folded nothing, the
    documents are built once at the end (``stage`` hears its steps), the second process
    recording pages once ``share_after_items`` are seen; otherwise the items are settled
    group by group as they are read.

    >>> bootstrap(pipeline, boto3.client("dynamodb"), {TableKind.USERS: "prod-users"})
    """
    deserializer = TypeDeserializer()
    total = BootstrapReport()
    building = first_build is not None and first_build.applies()
    groups: Recording
    shared: _SharedPages | None = None
    if building:
        assert first_build is not None
        groups = RecordOnly(pipeline, keep_below=GROUP_RECORDS)
        if first_build.helper is not None:
            shared = _SharedPages(first_build.helper, share_after_items)
    else:
        # Settled a group at a time while the tables are read, and once more at the end.
        groups = SettleGroups(pipeline)
    for kind, table in tables.items():

        def items(table: str = table, kind: TableKind = kind) -> Iterator[dict[str, Any]]:
            for page in scan_segments(client, table, segments):
                if shared is None or not shared.take(kind, page):
                    for raw in page:
                        yield {name: deserializer.deserialize(v) for name, v in raw.items()}
                if progress:
                    progress(table, len(page))

        total.add(import_items(pipeline, kind, items(), groups=groups))
    if shared is not None:
        total.add(shared.finish())
        total.pages_in_second_process = shared.pages
    if building:
        assert first_build is not None
        built = first_build.run(stage)
        if built is not None:
            total.documents_written = built.documents_written
            total.documents_dead_lettered = built.documents_dead_lettered
            total.built_into = built.generation
            return total
        if shared is not None and shared.pages:
            # The second process recorded some: the settle goes to the head, not only as
            # far as the events recorded here.
            pipeline.handing_over()
        groups = SettleGroups(pipeline)  # too few for a build: settled as one group
    assert isinstance(groups, SettleGroups)
    groups.settle()
    total.documents_written = groups.settled.documents_written
    total.documents_dead_lettered = groups.settled.dead_lettered
    return total
