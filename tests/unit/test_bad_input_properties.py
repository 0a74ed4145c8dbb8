"""Bad input never fails a batch: each bad record becomes a dead letter, the rest goes on.

Hypothesis builds batches that mix good records with bad ones of every kind a producer
gets wrong: a record that is not an object, a missing ``dynamodb`` block, attributes of
the wrong type (``sizeBytes`` as a string, ``tags`` as a list of numbers), missing keys
and attributes, tables nobody mapped, items larger than DynamoDB allows, odd Unicode, a
Kinesis payload that is not base64 or not JSON. The whole batch goes through the intake,
the projection and the search sync (over fakes of their ports): it never asks Lambda to
retry, every bad record is a dead letter whose reason names what to fix, and every good
record's document is written.

The last test is a fuzz target for the record parser: bytes mutated from real records,
run for a fixed number of examples with a deadline each, so it takes a bounded time.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.demo import SimulatedTables, to_kinesis_records
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter
from infrastructure.adapters.streams import parse_lambda_event
from infrastructure.services.ingestion import StreamIngestion
from infrastructure.services.write_pipeline import WritePipeline
from projections.documents import DocumentChange, DocumentKind
from projections.ports import (
    DeadLetters,
    DocumentFailure,
    IndexedDocument,
    SearchIndex,
    WriteOutcome,
)
from projections.projector import DocumentProjector
from projections.sync import SearchSync
from tests.chaos.figures import report_figures
from tests.unit.fakes import FakeLedger, FakeProjectionStore
from tests.unit.test_stream_properties import SAMPLE_RECORDS, TABLES

NAMES = {kind.value: f"prod-{kind.value}" for kind in TableKind}
TRIED: dict[str, int] = {}  # bad inputs tried, by kind, for the report


@pytest.fixture(scope="module", autouse=True)
def _report_bad_inputs_tried() -> Iterator[None]:
    yield
    if TRIED:
        report_figures("bad_input", {**dict(sorted(TRIED.items())), "total": sum(TRIED.values())})


# -- the pipeline over fakes of its ports -------------------------------------------------


class RecordingIndex(SearchIndex):
    """Keeps the highest version of each document, like every backend must."""

    def __init__(self) -> None:
        self.documents: dict[tuple[DocumentKind, str], IndexedDocument] = {}

    def write(
        self, changes: Sequence[DocumentChange], into: Mapping[DocumentKind, str] | None = None
    ) -> WriteOutcome:
        outcome = WriteOutcome()
        for change in changes:
            key = (change.kind, change.doc_id)
            held = self.documents.get(key)
            if held is not None and held.version >= change.version:
                outcome.stale_writes_rejected += 1
                continue
            self.documents[key] = IndexedDocument(*key, change.version, change.body)
            outcome.written += 1
        return outcome

    def get(self, kind: DocumentKind, doc_id: str) -> IndexedDocument | None:
        return self.documents.get((kind, doc_id))

    def search(self, kind: DocumentKind, request: Any) -> Any:
        raise NotImplementedError

    def count(self, kind: DocumentKind, request: Any) -> int:
        raise NotImplementedError

    def alias_name(self, kind: DocumentKind) -> str:
        return kind.value

    def default_physical_name(self, kind: DocumentKind) -> str:
        return f"{kind.value}-v1"

    def alias_target(self, kind: DocumentKind) -> str | None:
        return self.default_physical_name(kind)

    def create_physical_index(self, kind: DocumentKind, name: str) -> None:
        return None

    def swap_alias(self, kind: DocumentKind, physical_name: str) -> str | None:
        return None


class CollectedDeadLetters(DeadLetters):
    """The dead-letter store's ``put``: a letter seen again replaces its earlier copy."""

    def __init__(self) -> None:
        self.letters: dict[str, NewDeadLetter] = {}

    def put(self, letters: Sequence[NewDeadLetter]) -> None:
        self.letters.update((letter.identity(), letter) for letter in letters)

    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        self.put([NewDeadLetter.for_document(failure) for failure in failures])


@dataclass
class Pipeline:
    ingestion: StreamIngestion
    index: RecordingIndex
    dead_letters: CollectedDeadLetters


def pipeline() -> Pipeline:
    ledger = FakeLedger()
    store = FakeProjectionStore()
    store.events = ledger.log  # the projection reads what the intake records
    index, dead_letters = RecordingIndex(), CollectedDeadLetters()
    pipeline = WritePipeline(
        ChangeIntake(ledger),
        DocumentProjector(store),
        SearchSync(store, index, dead_letters),
        dead_letters,
    )
    ingestion = StreamIngestion(
        pipeline, {name: TableKind(kind) for kind, name in NAMES.items()}.get
    )
    return Pipeline(ingestion, index, dead_letters)


# -- good records -------------------------------------------------------------------------

# Text as people type it and as it gets pasted: any script, emoji, combining marks,
# right-to-left marks, zero-width joiners, but no lone surrogate and no NUL.
FAIR_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40
)


@st.composite
def good_changes(draw: st.DrawFn, prefix: str = "") -> tuple[SimulatedTables, list[dict[str, Any]]]:
    """A few users, their images and likes, with odd but valid text; and their records."""
    tables = SimulatedTables(NAMES)
    count = draw(st.integers(min_value=1, max_value=3))
    for n in range(count):
        user_id = f"{prefix}u-{n}-{draw(FAIR_TEXT)}"
        tables.put("users", {
            "userId": user_id, "email": f"{n}@mail.example", "name": draw(FAIR_TEXT),
            "plan": draw(st.sampled_from(["free", "pro", "team"])), "country": "DE",
            "createdAt": "2024-03-01T10:00:00Z", "marketingOptIn": draw(st.booleans()),
            "bio": draw(FAIR_TEXT) or None, "tags": set(draw(st.lists(FAIR_TEXT, max_size=3))),
        })  # fmt: skip
        tables.put("images", {
            "imageId": f"{prefix}i-{n}", "userId": user_id, "title": draw(FAIR_TEXT),
            "imageUrl": f"https://cdn.example/{n}.jpg", "createdAt": "2024-03-02T10:00:00Z",
            "status": "active", "sizeBytes": draw(st.integers(0, 2**63 - 1)),
        })  # fmt: skip
        like = {"imageId": f"{prefix}i-{n}", "userId": user_id, "createdAt": "2024-03-03"}
        tables.put("likes", like)
    return tables, [dict(record) for record in tables.records]


def expected_document_ids(tables: SimulatedTables) -> set[tuple[DocumentKind, str]]:
    users = {(DocumentKind.USERS, item["userId"]) for item in tables.items("users")}
    return users | {(DocumentKind.IMAGES, item["imageId"]) for item in tables.items("images")}


# -- bad records: (the record, words its dead letter's reason must contain) -------------------


Damage = Callable[[st.DrawFn, dict[str, Any]], tuple[Any, list[str]]]


def _of(records: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    return [r for r in records if r["eventSourceARN"].split("/")[1] == NAMES[table]]


def not_an_object(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    value = draw(st.one_of(st.text(), st.integers(), st.lists(st.integers(), max_size=3)))
    return value, ["must be an object"]


def invalid_json_text(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    # A producer that sent the JSON text of a record instead of the record, cut short.
    text = json.dumps(record)
    return text[: draw(st.integers(0, len(text) - 1))], ["must be an object"]


def no_dynamodb_block(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    record.pop("dynamodb")
    return record, ["dynamodb"]


WRONG_TYPES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "users": [
        ("plan", {"N": "1"}), ("marketingOptIn", {"S": "true"}), ("createdAt", {"N": "5"}),
        ("email", {"BOOL": True}), ("tags", {"NS": ["1", "2"]}), ("country", {"L": []}),
    ],
    "images": [
        ("sizeBytes", {"S": "12 kB"}), ("sizeBytes", {"N": "1.5"}),
        ("tags", {"L": [{"N": "1"}, {"N": "2"}]}), ("tags", {"NS": ["7"]}),
        ("userId", {"N": "42"}), ("status", {"S": "deleted"}),
    ],
}  # fmt: skip


@st.composite
def _wrong_type(draw: st.DrawFn, table: str) -> tuple[str, dict[str, Any]]:
    return draw(st.sampled_from(WRONG_TYPES[table]))


def wrong_attribute_type(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    table = "users" if "userId" in record["dynamodb"]["Keys"] else "images"
    name, value = draw(_wrong_type(table))
    record["dynamodb"]["NewImage"][name] = value
    return record, [name]


def missing_key(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    name = draw(st.sampled_from(sorted(record["dynamodb"]["Keys"])))
    record["dynamodb"]["Keys"].pop(name)
    return record, ["Keys", name]


def missing_attribute(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    required = {"email", "name", "plan", "title", "imageUrl", "status", "sizeBytes"}
    name = draw(st.sampled_from(sorted(required & set(record["dynamodb"]["NewImage"]))))
    record["dynamodb"]["NewImage"].pop(name)
    return record, [name, "missing"]


def unknown_table(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    name = draw(st.from_regex(r"[a-z][a-z0-9._-]{2,30}", fullmatch=True))
    name = name if name not in NAMES.values() and name not in NAMES else f"{name}-unknown"
    prefix, _, rest = record["eventSourceARN"].partition(":table/")
    record["eventSourceARN"] = f"{prefix}:table/{name}/{rest.partition('/')[2]}"
    return record, [name, "STREAMFOLD_TABLES"]


def oversized_item(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    size = draw(st.integers(400 * 1024 + 1, 1024 * 1024))
    record["dynamodb"]["NewImage"]["notes"] = {"S": "x" * size}
    return record, ["bytes", "DynamoDB item"]


def odd_unicode(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    bad_text = draw(st.sampled_from(["\ud800", "\udfff", "\x00", "a\ud83d", "\x00\x00"]))
    text = draw(FAIR_TEXT) + bad_text + draw(FAIR_TEXT)
    name = draw(st.sampled_from(sorted(set(record["dynamodb"]["NewImage"]) - {"userId"})))
    record["dynamodb"]["NewImage"][name] = {"S": text}
    return record, [name]


def unknown_event_name(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    record["eventName"] = draw(st.text(max_size=10).filter(lambda n: n not in _EVENT_NAMES))
    return record, ["eventName"]


_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")


def kinesis_not_base64(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    kinesis = _as_kinesis(record)
    data = draw(st.text(min_size=1, max_size=60).filter(lambda t: not _is_base64(t)))
    return {**kinesis, "kinesis": {**kinesis["kinesis"], "data": data}}, ["kinesis.data", "base64"]


def kinesis_not_json(draw: st.DrawFn, record: dict[str, Any]) -> tuple[Any, list[str]]:
    kinesis = _as_kinesis(record)
    payload = draw(st.binary(min_size=1, max_size=60).filter(lambda b: not _is_json(b)))
    data = base64.b64encode(payload).decode()
    return {**kinesis, "kinesis": {**kinesis["kinesis"], "data": data}}, ["kinesis.data", "JSON"]


def _as_kinesis(record: dict[str, Any]) -> dict[str, Any]:
    (kinesis,) = to_kinesis_records([record])
    return {**kinesis, "eventID": record["eventID"]}


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except ValueError:
        return False
    return True


def _is_json(payload: bytes) -> bool:
    try:
        json.loads(payload)
    except ValueError:
        return False
    return True


DAMAGES: dict[str, Damage] = {
    "not_an_object": not_an_object,
    "invalid_json_text": invalid_json_text,
    "no_dynamodb_block": no_dynamodb_block,
    "wrong_attribute_type": wrong_attribute_type,
    "missing_key": missing_key,
    "missing_attribute": missing_attribute,
    "unknown_table": unknown_table,
    "oversized_item": oversized_item,
    "odd_unicode": odd_unicode,
    "unknown_event_name": unknown_event_name,
    "kinesis_not_base64": kinesis_not_base64,
    "kinesis_not_json": kinesis_not_json,
}


@st.composite
def bad_record(
    draw: st.DrawFn, kind: str, source: dict[str, Any], number: int, prefix: str = ""
) -> tuple[str, Any, list[str]]:
    record = copy.deepcopy(source)
    record["eventID"] = f"bad-{prefix}{number}"
    # A change newer than any good one: it can never pass for an old duplicate.
    record["dynamodb"]["SequenceNumber"] = f"9{number:029d}"
    damaged, words = DAMAGES[kind](draw, record)
    return kind, damaged, words


Case = tuple[SimulatedTables, list[Any], list[tuple[str, Any, list[str]]]]
NO_PREFIX = st.just("")


@st.composite
def mixed_batches(draw: st.DrawFn, prefixes: st.SearchStrategy[str] = NO_PREFIX) -> Case:
    """Good records with bad ones of several kinds mixed in, at random places.

    Ids and event ids start with a prefix drawn from ``prefixes``, so that cases can share
    one store when each draws a prefix of its own.
    """
    prefix = draw(prefixes)
    tables, good = draw(good_changes(prefix))
    templates = _of(good, "users")[:1] + _of(good, "images")[:1]
    kinds = draw(st.permutations(sorted(DAMAGES)))[: draw(st.integers(3, len(DAMAGES)))]
    bad = [
        draw(bad_record(kind, draw(st.sampled_from(templates)), number, prefix))
        for number, kind in enumerate(kinds)
    ]
    batch: list[Any] = list(good)
    for _, record, _ in bad:
        batch.insert(draw(st.integers(0, len(batch))), record)
    return tables, batch, bad


SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=100, deadline=2000, suppress_health_check=SLOW_OK)
@given(mixed_batches())
def test_bad_records_become_dead_letters_and_good_records_are_written(case: Case) -> None:
    tables, batch, bad = case
    pipe = pipeline()

    outcome = pipe.ingestion.handle({"Records": batch})

    assert outcome.failed == [] and outcome.error is None
    assert set(pipe.index.documents) == expected_document_ids(tables)
    for user in tables.items("users"):
        body = pipe.index.documents[DocumentKind.USERS, user["userId"]].body
        assert body is not None and (body["name"], body["bio"]) == (user["name"], user.get("bio"))
    assert outcome.dead_lettered == len(bad)
    letters = list(pipe.dead_letters.letters.values())
    assert sorted(map(_canonical, (letter.raw for letter in letters))) == sorted(
        {_canonical(_raw(record)) for _, record, _ in bad}
    )
    for kind, record, words in bad:
        TRIED[kind] = TRIED.get(kind, 0) + 1
        [letter] = {id(x): x for x in letters if x.raw == _raw(record)}.values()
        assert letter.reason and "\n" not in letter.reason and len(letter.reason) < 600
        assert all(word in letter.reason for word in words), (kind, letter.reason)


def _raw(record: Any) -> Mapping[str, Any]:
    return record if isinstance(record, Mapping) else {"record": record}


def _canonical(raw: Mapping[str, Any]) -> str:
    return json.dumps(raw, sort_keys=True, default=str)


@settings(max_examples=40, deadline=2000, suppress_health_check=SLOW_OK)
@given(mixed_batches(), st.integers(min_value=0, max_value=3))
def test_a_batch_of_bad_and_good_records_delivered_again_changes_nothing(
    case: Case, retries: int
) -> None:
    _, batch, bad = case
    pipe = pipeline()
    pipe.ingestion.handle({"Records": batch})
    before = dict(pipe.index.documents)

    for _ in range(retries + 1):
        outcome = pipe.ingestion.handle({"Records": batch})
        assert outcome.failed == [] and outcome.events_recorded == 0

    assert pipe.index.documents == before
    assert len(pipe.dead_letters.letters) == len({_canonical(_raw(r)) for _, r, _ in bad})


# -- a fuzz target for the record parser ----------------------------------------------------


def fuzz_record_parser(data: bytes) -> None:
    """One fuzz input: bytes read as a record's JSON, as a Kinesis payload, and as both.

    Never raises; every record gets exactly one answer, a change or a one-line reason.
    """
    candidates: list[Any] = [{"eventSource": "aws:kinesis", "eventID": "f",
                              "kinesis": {"data": base64.b64encode(data).decode()}}]  # fmt: skip
    with contextlib.suppress(ValueError, RecursionError):
        candidates.append(json.loads(data))
    for record in candidates:
        [parsed] = parse_lambda_event({"Records": [record]}, TABLES.get)
        assert (parsed.change is None) != (parsed.error is None)
        assert parsed.error is None or "\n" not in parsed.error
        assert parsed.item_identifier


SAMPLES = [json.dumps(record).encode() for record in SAMPLE_RECORDS] + [
    base64.b64decode(record["kinesis"]["data"]) for record in SAMPLE_RECORDS if "kinesis" in record
]


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(0, max(0, len(data) - 1)))
        operation = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        if operation == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "delete" and data:
            del data[position : position + draw(st.integers(1, 16))]
        else:
            data[position:position] = draw(st.sampled_from(SAMPLES))[: draw(st.integers(1, 64))]
    return bytes(data)


# A fixed number of examples, each under a deadline: the fuzz run takes a bounded time.
@settings(max_examples=600, deadline=250, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated_samples(), st.binary(max_size=512)))
def test_fuzzed_records_never_crash_the_parser(data: bytes) -> None:
    TRIED["fuzzed_records"] = TRIED.get("fuzzed_records", 0) + 1
    fuzz_record_parser(data)
