"""The bulk API's format: versioned index actions for document changes, and item results.

Every change becomes an ``index`` action with ``version_type=external`` at the change's
version, through the kind's alias (``require_alias``, so that a missing alias can never
auto-create a wrongly mapped index). A delete indexes a tombstone at its version. The
cluster keeps the higher version: an equal or lower one is answered 409, which counts as a
stale write rejected, not a failure.

>>> action = encode(DocumentChange(DocumentKind.USERS, "u-1", 7, None), "crm-users", NOW)
>>> action.payload.splitlines()[0]
b'{"index":{"_index":"crm-users","_id":"u-1","version":7,"version_type":"external",...}}'
>>> item_result({"index": {"status": 409, "error": {"type": "version_conflict..."}}}).outcome
<ItemOutcome.STALE_WRITE_REJECTED: 'stale_write_rejected'>
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

from infrastructure.adapters.opensearch.errors import describe_error, is_transient_status
from infrastructure.adapters.opensearch.mappings import TOMBSTONE, TOMBSTONED_AT, tombstone_body
from projections.documents import MAX_DOCUMENT_ID_BYTES, DocumentChange

# A request is cut by size alone: the cluster's limit is on the request's bytes (10 MiB on
# Amazon OpenSearch Service's small instance types, 100 MiB elsewhere), and each further
# request is a round trip a Lambda batch pays for.
MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024
MAX_VERSION = 2**63 - 1  # external versions are non-negative 64-bit longs
RESERVED_FIELDS = (TOMBSTONE, TOMBSTONED_AT)


class Unindexable(ValueError):
    """The change can never be written as it is: a permanent failure of that document."""


@dataclass(frozen=True, slots=True)
class BulkAction:
    change: DocumentChange
    payload: bytes  # the action line and the document line, each ending with a newline


class ItemOutcome(Enum):
    WRITTEN = "written"
    STALE_WRITE_REJECTED = "stale_write_rejected"  # the index holds this version or newer
    RETRY = "retry"  # throttled, failing shard, missing index: may succeed later
    FAILED = "failed"  # the document itself is refused (mapping, parsing, ...)


@dataclass(frozen=True, slots=True)
class ItemResult:
    outcome: ItemOutcome
    reason: str = ""
    missing_index: bool = False


def encode(
    change: DocumentChange, index: str, deleted_at: str, *, through_alias: bool = True
) -> BulkAction:
    """The bulk action writing the change into ``index``; raises `Unindexable`.

    ``through_alias`` is False when ``index`` names a physical index (a rebuild filling it).
    """
    # The cluster rejects a whole bulk request for one bad id or version, so they are
    # checked here, document by document.
    if not 0 <= change.version <= MAX_VERSION:
        raise Unindexable(f"version {change.version} is outside 0..2^63-1")
    if not change.doc_id or len(change.doc_id.encode()) > MAX_DOCUMENT_ID_BYTES:
        raise Unindexable(f"document id must have 1 to {MAX_DOCUMENT_ID_BYTES} bytes")
    if change.body is None:
        body = tombstone_body(deleted_at)
    else:
        reserved = [name for name in RESERVED_FIELDS if name in change.body]
        if reserved:
            raise Unindexable(f"field {reserved[0]!r} is reserved for delete tombstones")
        body = change.body
    meta = {
        "index": {
            "_index": index,
            "_id": change.doc_id,
            "version": change.version,
            "version_type": "external",
            "require_alias": through_alias,
        }
    }
    try:
        document = orjson.dumps(body)
    except orjson.JSONEncodeError as error:
        raise Unindexable(f"body is not JSON-serializable: {error}") from None
    return BulkAction(change, orjson.dumps(meta) + b"\n" + document + b"\n")


def request_chunks(actions: Sequence[BulkAction]) -> Iterator[list[BulkAction]]:
    """The actions split into requests of at most ``MAX_BYTES_PER_REQUEST`` (an action
    larger than that alone goes in a request of its own)."""
    chunk: list[BulkAction] = []
    size = 0
    for action in actions:
        if chunk and size + len(action.payload) > MAX_BYTES_PER_REQUEST:
            yield chunk
            chunk, size = [], 0
        chunk.append(action)
        size += len(action.payload)
    if chunk:
        yield chunk


def request_body(chunk: Sequence[BulkAction]) -> bytes:
    return b"".join(action.payload for action in chunk)


def item_result(item: dict[str, Any]) -> ItemResult:
    """What happened to one action, from its entry in the bulk response's ``items``."""
    result: dict[str, Any] = next(iter(item.values()), {})
    status = int(result.get("status", 0))
    if 200 <= status < 300:
        return ItemResult(ItemOutcome.WRITTEN)
    reason = f"{status} {describe_error(result.get('error'))}"
    if status == 409:
        return ItemResult(ItemOutcome.STALE_WRITE_REJECTED, reason)
    error = result.get("error")
    if (
        status == 404
        and isinstance(error, dict)
        and error.get("type") == "index_not_found_exception"
    ):
        return ItemResult(ItemOutcome.RETRY, reason, missing_index=True)
    if is_transient_status(status) or status == 0:
        return ItemResult(ItemOutcome.RETRY, reason)
    return ItemResult(ItemOutcome.FAILED, reason)
