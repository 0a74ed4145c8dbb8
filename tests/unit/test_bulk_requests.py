"""How a write's bulk actions are cut into requests: by size alone, never by count."""

from __future__ import annotations

from infrastructure.adapters.opensearch.bulk import (
    MAX_BYTES_PER_REQUEST,
    BulkAction,
    encode,
    request_body,
    request_chunks,
)
from projections.documents import DocumentChange, DocumentKind

NOW = "2026-01-01T00:00:00Z"


def action(number: int, padding: int = 0) -> BulkAction:
    body = {"user_id": f"u-{number}", "bio": "x" * padding}
    return encode(DocumentChange(DocumentKind.USERS, f"u-{number}", 1, body), "crm-users", NOW)


def test_many_small_documents_go_in_one_request() -> None:
    actions = [action(number) for number in range(20_000)]

    chunks = list(request_chunks(actions))

    assert len(chunks) == 1 and chunks[0] == actions


def test_requests_are_cut_before_they_pass_the_size_limit() -> None:
    actions = [action(number, padding=100_000) for number in range(120)]  # about 12 MB

    chunks = list(request_chunks(actions))

    assert [a for chunk in chunks for a in chunk] == actions  # all, in order
    assert all(len(request_body(chunk)) <= MAX_BYTES_PER_REQUEST for chunk in chunks)
    total = sum(len(a.payload) for a in actions)
    assert len(chunks) == -(-total // MAX_BYTES_PER_REQUEST)  # as few as the size allows


def test_an_action_larger_than_the_limit_goes_alone() -> None:
    big = action(0, padding=MAX_BYTES_PER_REQUEST)
    actions = [action(1), big, action(2)]

    assert list(request_chunks(actions)) == [[actions[0]], [big], [actions[2]]]
