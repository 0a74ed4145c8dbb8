"""What the history of documents must satisfy against the rounds' oracle."""

from __future__ import annotations

import random
from typing import Any

from projections.documents import DocumentKind
from projections.history.explain import IMAGE_FIELDS, USER_FIELDS
from projections.history.service import DocumentHistory
from tests.support.history_oracle import OWN_FIELDS, Change, HistoryOracle, merged
from tests.support.history_rounds import RoundHistory

KINDS = (DocumentKind.USERS, DocumentKind.IMAGES)


def every_document_id(rounds: RoundHistory, kind: DocumentKind) -> list[str]:
    return sorted({d for r in rounds.rounds for d in r.documents[kind.value]})


def check_as_of(history: DocumentHistory, rounds: RoundHistory, seed: int, samples: int) -> None:
    rng = random.Random(seed)
    windows = rounds.quiet_moments()
    for _ in range(samples):
        kind = rng.choice(KINDS)
        doc_id = rng.choice(every_document_id(rounds, kind))
        start, end = rng.choice(windows)
        moment = start + (end - start) * rng.random()
        expected = rounds.expected_at(moment)[kind.value].get(doc_id)
        found = history.as_of(kind, doc_id, moment)
        assert found == expected, (
            f"{kind.value}/{doc_id} as of {moment.isoformat()}: {found} != {expected}"
        )


def check_history(history: DocumentHistory, rounds: RoundHistory, kind: DocumentKind) -> None:
    """Folding the entries' changes gives the oracle's document after every round."""
    for doc_id in every_document_id(rounds, kind):
        entries = _all_entries(history, kind, doc_id)
        assert [e["position"] for e in entries] == sorted(e["position"] for e in entries)
        document: dict[str, Any] = {}
        pending = list(entries)
        for round_ in rounds.rounds:
            while pending and _recorded(pending[0]) <= round_.moment:
                entry = pending.pop(0)
                assert entry["changes"], f"{doc_id}: an entry that changed nothing"
                for change in entry["changes"]:
                    assert document.get(change["field"]) == change["old"], (doc_id, entry)
                    document[change["field"]] = change["new"]
            expected = _flat(round_.documents[kind.value].get(doc_id))
            assert _present(document) == _present(expected), f"{kind.value}/{doc_id}"
        assert not pending


def check_each_change(history: DocumentHistory, oracle: HistoryOracle, kind: DocumentKind) -> None:
    """Entry by entry, the history is the oracle's list of changes: the same items, in the
    same order, each leaving the document the oracle computes from the items' states."""
    documents = {doc_id for k, doc_id in oracle.changes if k == kind.value}
    assert documents, "the oracle saw no change of any document"
    for doc_id in sorted(documents):
        document: dict[str, Any] = {}
        found: list[Change] = []
        for entry in _all_entries(history, kind, doc_id):
            for change in entry["changes"]:
                document[change["field"]] = change["new"]
            after = _present(document)
            found.append(Change(entry["table"], entry["item_key"], after))
        expected, found = oracle.timeline(kind.value, doc_id), merged(found)
        differ = next(
            (n for n, pair in enumerate(zip(found, expected, strict=False)) if pair[0] != pair[1]),
            min(len(found), len(expected)),
        )
        near = slice(max(0, differ - 2), differ + 2)
        assert found == expected, (
            f"{kind.value}/{doc_id}: change {differ} of {len(expected)} differs: "
            f"{found[near]} != {expected[near]}"
        )


def check_own_changes(
    history: DocumentHistory, states: dict[str, list[dict[str, Any]]], kind: DocumentKind
) -> None:
    """Entry by entry, the document's own fields go through states of its item, in the
    item's stream order (a subsequence of them: concurrent deliveries may skip a change
    a newer one overtook), and end at its last state. Holds whatever the interleaving."""
    own = OWN_FIELDS[kind.value]
    for doc_id, expected in states.items():
        document: dict[str, Any] = {}
        shown: list[dict[str, Any]] = [{}]
        entries = _all_entries(history, kind, doc_id)
        for n, entry in enumerate(entries):
            for change in entry["changes"]:
                document[change["field"]] = change["new"]
            # One record may make several events of its item (a rename and a new email),
            # recorded one after the other: the state is whole after the last of them.
            if n + 1 < len(entries) and _own(entries[n + 1], kind, doc_id):
                continue
            fields = {f: v for f, v in _present(document).items() if f in own}
            if fields != shown[-1]:
                shown.append(fields)
        remaining = iter(expected)
        assert all(state in remaining for state in shown), f"{kind.value}/{doc_id}: {shown}"
        assert shown[-1] == expected[-1], f"{kind.value}/{doc_id}"


def _own(entry: dict[str, Any], kind: DocumentKind, doc_id: str) -> bool:
    key = "userId" if kind is DocumentKind.USERS else "imageId"
    return bool(entry["table"] == kind.value and entry["item_key"] == {key: doc_id})


def check_explanations(history: DocumentHistory, rounds: RoundHistory) -> None:
    final = rounds.rounds[-1].documents
    for kind, fields in ((DocumentKind.USERS, USER_FIELDS), (DocumentKind.IMAGES, IMAGE_FIELDS)):
        for doc_id, document in final[kind.value].items():
            for name in fields:
                explained = history.explain(kind, doc_id, name)
                assert explained is not None and explained["value"] == document[name]
                _assert_adds_up(name, document[name], [i["counts"] for i in explained["items"]])


def _assert_adds_up(name: str, value: Any, amounts: list[Any]) -> None:
    if name == "last_upload_at":
        assert (value is None) == (not amounts)
        assert value is None or value in amounts
    elif name == "owner":
        assert (value is None) == (not amounts)
        assert value is None or amounts == [value["name"]]
    else:
        assert sum(amounts) == value, name


def _all_entries(history: DocumentHistory, kind: DocumentKind, doc_id: str) -> list[Any]:
    entries: list[Any] = []
    before = None
    while True:
        page = history.changes(kind, doc_id, limit=7, before=before).as_json()
        entries += page["entries"]
        before = page["next_cursor"]
        if before is None:
            return list(reversed(entries))


def _recorded(entry: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(entry["recorded_at"])


def _flat(body: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in (body or {}).items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _present(flat: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in flat.items() if value is not None}
