"""What a command prints when its output goes to a pipe or a file.

capsys stands for the pipe: its stdout is not a terminal, as ``streamfold ... | cat`` is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.entrypoints.cli import exit_codes
from infrastructure.entrypoints.cli.output import plural, utc_instant
from tests.contract.query_contract import DATASET
from tests.e2e.cli_support import run, use_embedded_home


@pytest.fixture(autouse=True)
def embedded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    use_embedded_home(monkeypatch, tmp_path)
    monkeypatch.setenv("COLUMNS", "60")  # a narrow terminal must not narrow a pipe
    index = EmbeddedSearchIndex(tmp_path / "data" / "index")
    index.write(DATASET)
    index.close()
    return tmp_path


def rows_of(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines() if not line.startswith("#")]


def test_piped_hits_are_tab_separated_rows_at_full_width_after_a_header(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "search", "images", "", "--size", "20", "--sort", "image_id")

    lines = out.splitlines()
    assert code == 0 and lines[0] == "# 11 images match ''"
    header, *hits = rows_of(out)
    assert header == ["id", "title", "status", "like_count", "owner_id", "created_at"]
    assert [hit[0] for hit in hits] == [f"i-{n:02d}" for n in range(1, 12)]
    assert all(len(hit) == len(header) for hit in hits)
    assert "Northern lights over the fjord" in [hit[1] for hit in hits]
    assert not any(character in out for character in "┏━│└")


def test_piped_highlights_keep_their_marks_on_one_row(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "search", "images", "mountain lake", "--highlight", "--size", "1")

    header, first = rows_of(out)
    matched = first[header.index("matched")]
    assert "**Mountain**" in matched and "**lake**" in matched and "[bold]" not in matched


def test_piped_search_says_in_a_comment_which_words_the_hits_matched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, every_word, _ = run(capsys, "search", "images", "mountain lake", "--no-fuzzy")
    _, some_words, _ = run(capsys, "search", "images", "lake zzzqx", "--no-fuzzy")
    _, no_text, _ = run(capsys, "search", "images", "")

    assert "# matched all words" in every_word.splitlines()
    caption = "# no result had every word; showing results with some of them"
    assert caption in some_words.splitlines()
    assert "matched" not in no_text and "every word" not in no_text


def test_owner_facets_count_the_images_without_an_owner_so_they_add_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "search", "images", "", "--size", "0", "--facet", "owner.plan")

    facet = out.split("# facet owner.plan\n")[1]
    buckets = {value: int(count) for value, count in rows_of(facet)[1:]}
    assert buckets["(unknown owner)"] == 1  # i-07's user does not exist
    assert sum(buckets.values()) == 11


def test_facet_date_keys_and_dates_are_iso_8601_in_utc(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "search", "images", "", "--size", "1", "--facet", "created_at:year")

    assert "2024-01-01T00:00:00Z\t9" in out
    assert utc_instant("2024-02-12T04:27:03+09:00") == "2024-02-11T19:27:03Z"
    assert utc_instant("2024-02-12T04:27:03.250Z") == "2024-02-12T04:27:03.250000Z"
    assert utc_instant("not a date") == "not a date"


def test_all_without_json_asks_for_json_or_a_page_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "search", "users", "", "--all")

    assert code == exit_codes.USAGE and out == ""
    assert len(err.splitlines()) == 1 and "--json" in err and "--size" in err


def test_all_with_json_still_returns_every_document_unpaged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "search", "images", "", "--all", "--json")

    page = json.loads(out)
    assert code == 0 and page["total"] == 11 and len(page["hits"]) == 11
    assert set(page["hits"][0]) == {"id", "score", "source", "highlight"}


def test_counts_speak_in_the_singular_for_one(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "search", "images", "", "--filter", "image_id=i-07")

    assert out.splitlines()[0] == "# 1 image matches ''"
    assert plural(1, "dead letter") == "1 dead letter" and plural(2, "record") == "2 records"


def test_a_piped_rebuild_prints_its_summary_without_a_progress_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "rebuild", "users")

    assert code == 0
    assert not any(mark in out for mark in ("━", "\r", "⠋", "%"))
    assert out.splitlines()[0].startswith("users rebuilt as generation")
    # longer than the 60 columns of COLUMNS, and still one line: a pipe has no width
    assert "The previous indices are kept: `streamfold rebuild --rollback` swaps back." in (
        out.splitlines()
    )
