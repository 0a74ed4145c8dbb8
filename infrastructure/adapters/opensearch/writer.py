"""Versioned bulk writes that retry only what failed transiently, within a time budget.

Each round sends the pending actions (in bounded requests, with the refresh policy:
``wait_for`` makes them searchable before the call returns, ``false`` only durable, and
searchable within the index's refresh interval) and sorts the item results: written, stale
write rejected (409: the index holds this version or a newer one), permanently refused
(reported with the reason), or transient (429, 5xx, a missing index, or a request that
failed as a whole), which go into the next round after a backoff pause. When the budget
cannot fit another round, the write raises `SearchUnavailable`; items already written stay
written and count as stale writes rejected when the caller writes them again.

>>> writer = VersionedWriter(client, IndexNames("crm"), ensure_ready, "https://search:443")
>>> writer.write(changes, RetryWindow(deadline=time.monotonic() + 20)).written
3
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from opensearchpy import OpenSearch, TransportError

from infrastructure.adapters.opensearch.bulk import (
    BulkAction,
    ItemOutcome,
    Unindexable,
    encode,
    item_result,
    request_body,
    request_chunks,
)
from infrastructure.adapters.opensearch.errors import (
    Retryable,
    is_transient,
    reason_and_hint,
    unavailable,
)
from infrastructure.adapters.opensearch.indices import LayoutConflict
from infrastructure.adapters.opensearch.names import IndexNames
from infrastructure.adapters.opensearch.retry import RetryWindow
from infrastructure.settings import DEFAULT_REFRESH
from projections.documents import DocumentChange, DocumentKind, newest_per_document
from projections.ports import DocumentFailure, SearchUnavailable, WriteOutcome

log = logging.getLogger(__name__)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class VersionedWriter:
    """Writes document changes through the kinds' aliases, keeping the higher versions."""

    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        ensure_ready: Callable[[float], None],
        url: str,
        *,
        forget_ready: Callable[[], None] = lambda: None,
        clock: Callable[[], str] = utc_now,
        refresh: str = DEFAULT_REFRESH,
    ) -> None:
        self._client = client
        self._names = names
        self._ensure_ready = ensure_ready
        self._forget_ready = forget_ready
        self._url = url
        self._clock = clock
        self._refresh = refresh

    def write(
        self,
        changes: Sequence[DocumentChange],
        window: RetryWindow,
        into: Mapping[DocumentKind, str] | None = None,
    ) -> WriteOutcome:
        newest, stale = newest_per_document(changes)
        outcome = WriteOutcome(stale_writes_rejected=stale)
        pending = self._encode(newest, outcome, into or {})
        while pending:
            pending, reason = self._round(pending, outcome, window)
            if not pending:
                break
            log.warning(
                "OpenSearch at %s: %d of %d documents not written yet (%s)",
                self._url,
                len(pending),
                len(newest),
                reason,
            )
            if not window.pause_before_retry():
                raise SearchUnavailable(
                    f"OpenSearch at {self._url}: cannot write {len(pending)} of "
                    f"{len(newest)} documents after {window.retries + 1} attempts: {reason}"
                )
        return outcome

    def _encode(
        self,
        changes: Sequence[DocumentChange],
        outcome: WriteOutcome,
        into: Mapping[DocumentKind, str],
    ) -> list[BulkAction]:
        deleted_at = self._clock()
        actions = []
        for change in changes:
            physical = into.get(change.kind)
            index = physical or self._names.alias(change.kind)
            try:
                actions.append(encode(change, index, deleted_at, through_alias=not physical))
            except Unindexable as error:
                outcome.failed.append(DocumentFailure(change, str(error)))
        return actions

    def _round(
        self, pending: list[BulkAction], outcome: WriteOutcome, window: RetryWindow
    ) -> tuple[list[BulkAction], str]:
        """Send every pending action once; returns those to retry and the last reason."""
        try:
            self._ensure_ready(window.request_timeout())
        except (TransportError, Retryable, LayoutConflict) as error:
            if not is_transient(error):
                raise unavailable(self._url, "prepare the indices", error) from None
            return pending, reason_and_hint(error)
        retry: list[BulkAction] = []
        reason = ""
        for chunk in request_chunks(pending):
            try:
                response = self._client.bulk(
                    body=request_body(chunk),
                    refresh=self._refresh,
                    request_timeout=window.write_timeout(),
                )
            except (TransportError, Retryable) as error:
                if not is_transient(error):
                    raise unavailable(self._url, "write", error) from None
                retry += chunk
                reason = reason_and_hint(error)
                continue
            for action, item in zip(chunk, response["items"], strict=True):
                result = item_result(item)
                if result.outcome is ItemOutcome.WRITTEN:
                    outcome.written += 1
                elif result.outcome is ItemOutcome.STALE_WRITE_REJECTED:
                    outcome.stale_writes_rejected += 1
                elif result.outcome is ItemOutcome.FAILED:
                    outcome.failed.append(DocumentFailure(action.change, result.reason))
                else:
                    retry.append(action)
                    reason = result.reason
                    if result.missing_index:
                        self._forget_ready()
        return retry, reason
