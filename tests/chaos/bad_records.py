"""Stream records that are bad on purpose, one of each kind a producer gets wrong.

Each is made from a good record of the workload (so it names a real item and arrives
among real changes) and carries its own ``eventID``, so the dead-letter store can be
checked for exactly these records, and a sequence number newer than any real change, so
that it can never pass for an old duplicate.

>>> bad = bad_records(user_record, image_record)
>>> sorted(bad)[:3]
['huge_number', 'keys_only_view', 'lone_surrogate']
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

Record = dict[str, Any]
UNKNOWN_TABLE = "crm-audit-log"


def bad_records(user: Mapping[str, Any], image: Mapping[str, Any]) -> dict[str, Any]:
    """Name -> a bad record, made from a good users record and a good images record."""
    makers: dict[str, tuple[Mapping[str, Any], Callable[[Record], Any]]] = {
        "unknown_table": (user, _in_unknown_table),
        "missing_dynamodb_block": (user, _without("dynamodb")),
        "size_bytes_as_string": (image, _with_attribute("sizeBytes", {"S": "12 kB"})),
        "tags_as_numbers": (image, _with_attribute("tags", {"L": [{"N": "1"}, {"N": "2"}]})),
        "missing_key": (image, _without_key("imageId")),
        "unknown_event_name": (user, _with_field("eventName", "UPSERT")),
        "keys_only_view": (user, _keys_only),
        "plan_not_allowed": (user, _with_attribute("plan", {"S": "gold"})),
        "lone_surrogate": (user, _with_attribute("name", {"S": "Ada \ud800 Lovelace"})),
        "nul_character": (user, _with_attribute("bio", {"S": "line\x00break"})),
        "huge_number": (image, _with_attribute("sizeBytes", {"N": "1" + "0" * 30})),
        "bad_sequence_number": (user, _with_block_field("SequenceNumber", "12-ab")),
        "not_an_object": (user, lambda record: json.dumps(record)),
    }
    bad: dict[str, Any] = {}
    for number, (name, (template, make)) in enumerate(sorted(makers.items())):
        record = copy.deepcopy(dict(template))
        record["eventID"] = f"bad-on-purpose-{number:02d}-{name}"
        # Beyond every real change of the item: never skipped as an old duplicate.
        record["dynamodb"]["SequenceNumber"] = f"9{number:029d}"
        bad[name] = make(record)
    return bad


def letter_raw(record: Any) -> str:
    """How the dead-letter store keeps a record, as canonical JSON for comparisons."""
    raw = record if isinstance(record, Mapping) else {"record": record}
    return json.dumps(raw, sort_keys=True, default=str)


def _in_unknown_table(record: Record) -> Record:
    arn = record["eventSourceARN"]
    prefix, _, rest = arn.partition(":table/")
    record["eventSourceARN"] = f"{prefix}:table/{UNKNOWN_TABLE}/{rest.partition('/')[2]}"
    return record


def _without(field: str) -> Callable[[Record], Record]:
    def make(record: Record) -> Record:
        record.pop(field)
        return record

    return make


def _without_key(name: str) -> Callable[[Record], Record]:
    def make(record: Record) -> Record:
        record["dynamodb"]["Keys"].pop(name)
        return record

    return make


def _with_field(field: str, value: Any) -> Callable[[Record], Record]:
    def make(record: Record) -> Record:
        record[field] = value
        return record

    return make


def _with_block_field(field: str, value: Any) -> Callable[[Record], Record]:
    def make(record: Record) -> Record:
        record["dynamodb"][field] = value
        return record

    return make


def _with_attribute(name: str, value: Any) -> Callable[[Record], Record]:
    def make(record: Record) -> Record:
        record["dynamodb"]["NewImage"][name] = value
        return record

    return make


def _keys_only(record: Record) -> Record:
    record["dynamodb"].pop("NewImage")
    record["dynamodb"]["StreamViewType"] = "KEYS_ONLY"
    return record
