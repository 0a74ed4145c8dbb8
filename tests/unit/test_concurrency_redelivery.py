"""The concurrency benchmark redelivers what a handler answers to retry, as Lambda does."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.benchmarks.concurrency import _handle


def batch(*sequence_numbers: str) -> dict[str, Any]:
    return {"Records": [{"dynamodb": {"SequenceNumber": n}} for n in sequence_numbers]}


def test_only_the_records_to_retry_come_again_until_none_is_left() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        seen.append(numbers)
        failing = ["2"] if len(seen) < 3 else []
        return {"batchItemFailures": [{"itemIdentifier": n} for n in failing]}

    assert _handle(handler, batch("1", "2", "3")) == 2
    assert seen == [["1", "2", "3"], ["2"], ["2"]]


def test_records_that_keep_failing_end_the_run() -> None:
    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "1"}]}

    with pytest.raises(RuntimeError, match="1 records still to retry after 5 deliveries"):
        _handle(handler, batch("1"))
