"""The parallel scan hands pages over as they arrive, surfaces errors and stops when left."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from infrastructure.services.bootstrap import scan_segments


class PagedTable:
    """A DynamoDB client's ``scan`` over pages per segment (a fake of the Scan port)."""

    def __init__(self, pages: dict[int, list[list[str]]]) -> None:
        self._pages = pages
        self.calls: list[tuple[int, int]] = []
        self.gates: dict[tuple[int, int], threading.Event] = {}
        self.failing: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def scan(self, **arguments: Any) -> dict[str, Any]:
        segment = arguments["Segment"]
        number = arguments.get("ExclusiveStartKey", {}).get("page", 0)
        with self._lock:
            self.calls.append((segment, number))
        gate = self.gates.get((segment, number))
        if gate is not None:
            assert gate.wait(5), "the scan was held back longer than the test allows"
        if self.failing == (segment, number):
            raise RuntimeError("ProvisionedThroughputExceededException")
        pages = self._pages[segment]
        answer: dict[str, Any] = {"Items": [{"id": {"S": value}} for value in pages[number]]}
        if number + 1 < len(pages):
            answer["LastEvaluatedKey"] = {"page": number + 1}
        return answer


def ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return sorted(item["id"]["S"] for page in pages for item in page)


def test_every_item_of_every_segment_is_handed_over_once() -> None:
    table = PagedTable({0: [["a", "b"], ["c"]], 1: [["d"], [], ["e", "f"]], 2: [[]]})
    assert ids(list(scan_segments(table, "t", 3))) == ["a", "b", "c", "d", "e", "f"]
    assert sorted(table.calls) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0)]


def test_a_page_is_handed_over_before_the_scan_ends() -> None:
    table = PagedTable({0: [["a"], ["b"]]})
    held = table.gates[(0, 1)] = threading.Event()
    pages = scan_segments(table, "t", 1)
    first = next(pages)  # the second page is still being read
    assert ids([first]) == ["a"]
    held.set()
    assert ids(list(pages)) == ["b"]


def test_a_failed_scan_call_reaches_the_reader() -> None:
    table = PagedTable({0: [["a"], ["b"]], 1: [["c"]]})
    table.failing = (0, 1)
    with pytest.raises(RuntimeError, match="ProvisionedThroughput"):
        list(scan_segments(table, "t", 2))


def test_leaving_early_stops_the_scan() -> None:
    pages = {0: [[str(n)] for n in range(100)]}
    table = PagedTable(pages)
    scan = scan_segments(table, "t", 1)
    next(scan)
    scan.close()  # waits for the segment's thread to stop
    # It read at most the pages it was allowed ahead of the reader, not the table.
    assert len(table.calls) <= 4
