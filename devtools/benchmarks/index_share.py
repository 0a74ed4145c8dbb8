"""What tantivy alone spends on the pipeline's document writes: the embedded backend's share.

The pipeline benchmark records every write it makes to the embedded index (one per Lambda
batch) as the tantivy documents the backend encoded: strings, which the garbage collector
does not scan, so keeping them does not slow the run being measured. Replaying them here
into fresh tantivy indexes, with the same documents, the same deletes and the same commit
per kind per batch, times tantivy's own work and nothing of streamfold's: no version
lookups, no encoding, one kind after the other on one core. It is timed twice: with the
kinds' real schemas, and with a minimal schema of ids, versions, bodies and the full-text
fields only, which no query API could do with less. Each commit must happen, since a
Lambda batch that returns has made its documents searchable, so this is the least any
pipeline writing to tantivy pays.

>>> recorder = RecordingIndex(directory)        # an EmbeddedSearchIndex that keeps its writes
>>> seconds = replay_in_tantivy(recorder.writes, scratch_dir, minimal=False)
"""

from __future__ import annotations

import pickle
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson
import tantivy

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.adapters.embedded.physical import (
    WRITER_HEAP_BYTES,
    WRITER_THREADS,
    VersionedDocument,
)
from infrastructure.adapters.embedded.schema import BODY, ID, VERSION, kind_schema
from projections.documents import DocumentKind
from projections.ports import WriteOutcome

Commit = list[tuple[str, str]]  # (document id, tantivy JSON) of one kind, in one commit
Write = dict[DocumentKind, Commit]  # one write: a commit per kind


class RecordingIndex(EmbeddedSearchIndex):
    """The embedded index, keeping the encoded documents of every write made to it.

    With a ``journal`` file it also appends each write there, stamped with the system's
    monotonic clock, so that the writes of several processes (a command and its
    background settler, `journaled_writes`) can be put back in the order they were made.
    """

    def __init__(
        self, directory: Path, index_prefix: str = "streamfold", journal: Path | None = None
    ) -> None:
        super().__init__(directory, index_prefix)
        self.writes: list[Write] = []
        self._journal = journal

    def _write_encoded(
        self,
        batches: Mapping[DocumentKind, list[VersionedDocument]],
        into: Mapping[DocumentKind, str] | None,
        outcome: WriteOutcome,
    ) -> None:
        write = {kind: [(d.doc_id, d.json) for d in batch] for kind, batch in batches.items()}
        self.writes.append(write)
        if self._journal is not None:
            with self._journal.open("ab") as journal:
                pickle.dump((time.monotonic_ns(), write), journal)
        super()._write_encoded(batches, into, outcome)


def journaled_writes(journals: Sequence[Path]) -> list[Write]:
    """The writes the ``journals`` of `RecordingIndex` hold, in the order they were made."""
    stamped: list[tuple[int, Write]] = []
    for path in journals:
        if not path.exists():
            continue
        with path.open("rb") as journal:
            while True:
                try:
                    stamped.append(pickle.load(journal))  # noqa: S301 - written just above
                except EOFError:
                    break
    return [write for _, write in sorted(stamped, key=lambda each: each[0])]


def replay_in_tantivy(writes: Sequence[Write], directory: Path, *, minimal: bool) -> float:
    """Seconds tantivy takes to apply ``writes``, each a commit per kind, into ``directory``."""
    commits = [_minimal(write) if minimal else write for write in writes]
    indexes = {
        kind: tantivy.Index(_schema(kind, minimal), path=str(_made(directory / kind.value)))
        for kind in DocumentKind
    }
    held: dict[DocumentKind, set[str]] = defaultdict(set)
    started = time.perf_counter()
    for batch in commits:
        for kind, documents in batch.items():
            writer = indexes[kind].writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
            for doc_id, json in documents:
                if doc_id in held[kind]:  # as the backend does: replaced ids are deleted first
                    writer.delete_documents_by_term(ID, doc_id)
                held[kind].add(doc_id)
                writer.add_json(json)
            writer.commit()
            writer.wait_merging_threads()
    return time.perf_counter() - started


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _minimal(write: Write) -> Write:
    kept = {kind: _minimal_fields(kind) for kind in write}
    return {
        kind: [
            (
                doc_id,
                orjson.dumps(
                    {k: v for k, v in orjson.loads(json).items() if k in kept[kind]}
                ).decode(),
            )
            for doc_id, json in documents
        ]
        for kind, documents in write.items()
    }


def _minimal_fields(kind: DocumentKind) -> set[str]:
    return {ID, VERSION, BODY, *(field.name for field in kind_schema(kind).text_fields)}


def _schema(kind: DocumentKind, minimal: bool) -> tantivy.Schema:
    if not minimal:
        return kind_schema(kind).tantivy_schema
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field(VERSION, stored=True, fast=True)
    builder.add_bytes_field(BODY, stored=True)
    for field in kind_schema(kind).text_fields:
        builder.add_text_field(field.name, tokenizer_name="default", index_option="position")
    return builder.build()
