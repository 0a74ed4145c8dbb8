"""One record of a Lambda stream event, parsed or refused, and how a refusal reads."""

from __future__ import annotations

import hashlib
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from domain.changes import SourceChange
from domain.values import quick_init

if TYPE_CHECKING:
    from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter

DYNAMODB_STREAMS = "dynamodb-streams"
KINESIS = "kinesis"
UNKNOWN_SOURCE = "unknown"


@quick_init
@dataclass(frozen=True, slots=True)
class StreamRecord:
    """A record of a Lambda event and the change it carries, or why it carries none.

    ``item_identifier`` is what Lambda expects back in ``batchItemFailures``. ``raw`` is
    the record exactly as received (normally a dict; an entry of ``Records`` that is not
    one is kept as it came). Exactly one of ``change`` and ``error`` is set: ``error`` is
    a one-line reason a person can act on, and retrying the record will not help.
    """

    item_identifier: str
    raw: Any
    source: str
    table_name: str | None
    change: SourceChange | None
    error: str | None

    def letter(self, reason: str) -> NewDeadLetter:
        """The record's dead letter: the record as received, and ``reason``."""
        # Here, not at the top: parsing never needs the event store's modules, and only a
        # failed record needs a letter.
        from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter

        raw = dict(self.raw) if isinstance(self.raw, Mapping) else {"record": self.raw}
        return NewDeadLetter(self.source, self.table_name, reason, raw)


class MalformedEvent(ValueError):
    """The Lambda event as a whole is not a stream event; no record can be told apart."""


class RecordError(ValueError):
    """A record that cannot become a change; the message is the reason, on one line."""


_shortened = reprlib.Repr()
_shortened.maxstring = 80
_shortened.maxother = 80
_shortened.maxdict = 4
_shortened.maxlist = 4
_shortened.maxlevel = 3


def shown(value: object) -> str:
    """A value quoted for an error message: one line, bounded length, surrogates escaped.

    >>> shown({"N": "abc"})
    "{'N': 'abc'}"
    """
    try:
        return _shortened.repr(value)
    except ValueError:
        # An integer of more digits than Python will print.
        return f"<{type(value).__name__} too large to show>"


def item_identifier(record: Mapping[str, Any], block: str, sequence_field: str) -> str:
    """How Lambda names a record in ``batchItemFailures``: its sequence number (in the
    ``block`` object: ``dynamodb.SequenceNumber`` or ``kinesis.sequenceNumber``), else its
    event id, else a digest of the record.

    >>> item_identifier({"dynamodb": {"SequenceNumber": "42"}}, "dynamodb", "SequenceNumber")
    '42'
    """
    inner = record.get(block)
    sequence_number = inner.get(sequence_field) if isinstance(inner, dict) else None
    if isinstance(sequence_number, str) and sequence_number:
        return sequence_number
    event_id = record.get("eventID")
    if isinstance(event_id, str) and event_id:
        return event_id
    return fallback_identifier(record)


def fallback_identifier(raw: object) -> str:
    """A stable identifier for a record that carries no sequence number or event id.

    The same record delivered again hashes the same, so a retried batch names it alike.
    """
    try:
        text = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        text = _full_repr(raw).encode("utf-8", "backslashreplace")
    return "sha256:" + hashlib.sha256(text).hexdigest()


def _full_repr(raw: object) -> str:
    try:
        return repr(raw)
    except (RecursionError, ValueError):
        # Too deep or too large for Python's JSON parser to have produced, so no Lambda
        # delivered it; telling such records apart no longer matters.
        return shown(raw)


def refused(
    identifier: str, raw: object, source: str, table_name: str | None, reason: str
) -> StreamRecord:
    return StreamRecord(identifier, raw, source, table_name, None, reason)
