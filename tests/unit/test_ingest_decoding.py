"""`ingest` reads a file's JSON with orjson, and exactly as the standard library does."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.entrypoints.cli.ingest import decode_event, load_event
from infrastructure.entrypoints.cli.parser import UsageError


def test_stream_events_decode_to_the_standard_librarys_values() -> None:
    workload = CrmWorkload(seed=5, users=40)
    for event in lambda_events(workload.records, 100):
        text = json.dumps(event)
        assert decode_event(text.encode()) == json.loads(text)


def test_an_escaped_lone_surrogate_is_taken_as_the_standard_library_takes_it() -> None:
    assert decode_event(b'{"Records": [], "n": "\\ud800"}')["n"] == "\ud800"


def test_an_integer_past_64_bits_reads_as_a_float() -> None:
    # No field of a stream event holds one: DynamoDB's numbers travel as strings.
    event = decode_event(b'{"Records": [], "n": 18446744073709551616123}')
    assert event["n"] == 1.8446744073709552e22


def test_nan_is_taken_as_the_standard_library_takes_it() -> None:
    assert math.isnan(decode_event(b'{"Records": [], "n": NaN}')["n"])


def test_broken_json_names_where_it_breaks(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text('{"Records": [\n  {"eventName": }\n]}', encoding="utf-8")
    with pytest.raises(UsageError, match=r"event.json: not JSON \(Expecting value at line 2\)"):
        load_event(path)


def test_a_file_that_is_not_utf8_says_it_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(b'{"Records": ["\xff"]}')
    with pytest.raises(UsageError, match=r"event.json: cannot read it \('utf-8' codec"):
        load_event(path)
