"""``streamfold search``, ``count`` and ``serve``: queries as a CRM developer types them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from tests.contract.query_contract import DATASET
from tests.e2e.cli_support import run, use_embedded_home


@pytest.fixture(autouse=True)
def embedded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    use_embedded_home(
        monkeypatch,
        tmp_path,
        ("STREAMFOLD_EVENT_STORE", "STREAMFOLD_SEARCH", "STREAMFOLD_API_AUTH"),
    )
    index = EmbeddedSearchIndex(tmp_path / "data" / "index")
    index.write(DATASET)
    index.close()
    return tmp_path


def search_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "search", *argv, "--json")
    assert code == 0, err
    return dict(json.loads(out))


def test_filters_and_a_sort_select_and_order_the_hits(capsys: pytest.CaptureFixture[str]) -> None:
    page = search_json(
        capsys, "images", "", "--filter", "status=active", "--filter", "like_count>=12",
        "--filter", "owner.country!=GB", "--sort", "created_at:desc",
    )  # fmt: skip

    assert [hit["id"] for hit in page["hits"]] == ["i-08", "i-10", "i-03"]
    assert all(hit["score"] is None for hit in page["hits"])


def test_where_takes_any_filter_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    either = {
        "type": "or",
        "filters": [
            {"type": "term", "field": "plan", "value": "team"},
            {"type": "range", "field": "lifetime_value_cents", "gte": 20000},
        ],
    }

    page = search_json(capsys, "users", "", "--where", json.dumps(either))

    assert [hit["id"] for hit in page["hits"]] == ["u-grace", "u-katherine", "u-margaret"]


def test_facets_come_with_the_json_page(capsys: pytest.CaptureFixture[str]) -> None:
    page = search_json(
        capsys, "images", "", "--size", "0", "--facet", "status", "--facet", "created_at:year",
        "--facet", "like_count:0-10,10-", "--facet", "size_bytes",
    )  # fmt: skip

    facets = page["facets"]
    assert facets["status"]["buckets"] == [
        {"key": "active", "count": 9},
        {"key": "hidden", "count": 2},
    ]
    assert [b["count"] for b in facets["created_at:year"]["buckets"]] == [2, 9]
    assert facets["like_count:0-10,10-"]["buckets"] == [
        {"key": "0-10", "count": 6},
        {"key": "10-*", "count": 5},
    ]
    assert facets["size_bytes"]["count"] == 11


def test_pages_follow_each_other_with_search_after(capsys: pytest.CaptureFixture[str]) -> None:
    first = search_json(capsys, "users", "", "--sort", "created_at", "--size", "4")
    second = search_json(
        capsys, "users", "", "--sort", "created_at", "--size", "4",
        "--search-after", first["next_cursor"],
    )  # fmt: skip

    ids = [hit["id"] for hit in first["hits"] + second["hits"]]
    assert ids == [
        "u-linus",
        "u-barbara",
        "u-grace",
        "u-alan",
        "u-ada",
        "u-katherine",
        "u-margaret",
    ]
    assert second["next_cursor"] is None


def test_count_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", "users", "--filter", "plan=pro", "--json")

    assert (code, json.loads(out)) == (0, {"count": 3})


def test_the_table_shows_hits_matched_fragments_facets_and_the_next_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "search", "images", "photgraphy", "--size", "2", "--highlight",
        "--facet", "status",
    )  # fmt: skip

    assert code == 0
    assert "i-01" in out and "title:" in out  # the matched fragments, by field
    assert "facet status" in out and "active" in out
    assert "--search-after" in out


def test_prefix_search_finds_a_name_as_it_is_typed(capsys: pytest.CaptureFixture[str]) -> None:
    page = search_json(capsys, "users", "katherine joh", "--prefix")

    assert [hit["id"] for hit in page["hits"]] == ["u-katherine"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "images", "", "--filter", "colour=red"], "--filter (field): unknown field"),
        (["search", "images", "", "--filter", "status"], "is not FIELD=VALUE"),
        (["count", "users", "--filter", "image_count>=many"], "expects a whole number"),
        (["search", "users", "", "--sort", "bio"], "--sort (0.field)"),
        (["search", "users", "", "--facet", "plan:stats"], "--facet"),
        (["search", "users", "", "--where", "{oops"], "--where: not JSON"),
        (["search", "users", "", "--search-after", "bogus"], "--search-after"),
    ],
)  # fmt: skip
def test_query_mistakes_get_one_line_that_says_what_to_do(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *argv)

    assert code == 2 and out == ""
    assert expected in err and len(err.strip().splitlines()) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_the_http_api_on_the_loopback_address(embedded_home: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "infrastructure.entrypoints.cli.main", "serve", "--port", str(port)],
        env={**os.environ, "STREAMFOLD_DATA_DIR": str(embedded_home / "data")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as health:
                    assert json.load(health) == {"status": "ok"}
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{base}/v1/users/count",
            data=json.dumps({"filter": {"type": "term", "field": "plan", "value": "pro"}}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.load(answer) == {"count": 3}
    finally:
        server.terminate()
        server.wait(timeout=10)
