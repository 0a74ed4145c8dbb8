"""What tantivy alone spends on the pipeline's document writes: the embedded backend's share.

The pipeline benchmark records every write it makes to the embedded index (one per Lambda
batch). Replaying them here into fresh tantivy indexes, with the same documents, the same
deletes and the same commit per kind per batch, times tantivy's own work and nothing of
streamfold's: no version lookups, no encoding (done before the clock starts), one kind
after the other on one core. It is timed twice: with the kinds' real schemas, and with a
minimal schema of ids, versions, bodies and the full-text fields only, which no query API
could do with less. Each commit must happen, since a Lambda batch that returns has made
its documents searchable, so this is the least any pipeline writing to tantivy pays.

>>> recorder = RecordingIndex(directory)          # an EmbeddedSearchIndex that keeps writes
>>> seconds = replay_in_tantivy(recorder.writes, scratch_dir, minimal=False)
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson
import tantivy

from infrastructure.embedded import EmbeddedSearchIndex
from infrastructure.embedded.codec import UnindexableDocument, encode
from infrastructure.embedded.physical import WRITER_HEAP_BYTES, WRITER_THREADS
from infrastructure.embedded.schema import BODY, ID, VERSION, kind_schema
from projections.documents import DocumentChange, DocumentKind, newest_per_document
from projections.ports import WriteOutcome

Commit = list[tuple[str, str]]  # (document id, tantivy JSON) of one kind, in one commit


class RecordingIndex(EmbeddedSearchIndex):
    """The embedded index, keeping a copy of every batch of changes written to it."""

    def __init__(self, directory: Path, index_prefix: str = "streamfold") -> None:
        super().__init__(directory, index_prefix)
        self.writes: list[list[DocumentChange]] = []

    def write(
        self,
        changes: Sequence[DocumentChange],
        into: Mapping[DocumentKind, str] | None = None,
    ) -> WriteOutcome:
        self.writes.append(list(changes))
        return super().write(changes, into)


def replay_in_tantivy(
    writes: Sequence[Sequence[DocumentChange]], directory: Path, *, minimal: bool
) -> float:
    """Seconds tantivy takes to apply ``writes``, each a commit per kind, into ``directory``."""
    commits = [_commits(changes, minimal) for changes in writes]
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


def _commits(changes: Sequence[DocumentChange], minimal: bool) -> dict[DocumentKind, Commit]:
    newest, _ = newest_per_document(changes)
    batch: dict[DocumentKind, Commit] = defaultdict(list)
    for change in newest:
        try:
            json = encode(change)
        except UnindexableDocument:
            continue
        if minimal:
            kept = _minimal_fields(change.kind)
            json = orjson.dumps({k: v for k, v in orjson.loads(json).items() if k in kept}).decode()
        batch[change.kind].append((change.doc_id, json))
    return batch


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
