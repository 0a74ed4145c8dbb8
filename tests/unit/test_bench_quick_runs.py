"""`make bench` runs every benchmark, each with arguments its command accepts."""

from __future__ import annotations

import argparse

import pytest

from infrastructure.entrypoints.cli.bench import QUICK_RUNS
from infrastructure.entrypoints.cli.main import build_parser


def bench_commands() -> set[str]:
    parser = build_parser(["bench"])
    commands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    bench = commands.choices["bench"]
    which = next(
        action for action in bench._actions if isinstance(action, argparse._SubParsersAction)
    )
    return set(which.choices) - {"all"}


def test_the_quick_run_covers_every_benchmark() -> None:
    assert {run[0] for run in QUICK_RUNS} == bench_commands()


@pytest.mark.parametrize("run", QUICK_RUNS, ids=[run[0] for run in QUICK_RUNS])
def test_each_quick_run_parses(run: tuple[str, ...]) -> None:
    arguments = ["bench", *run]

    parsed = build_parser(arguments).parse_args(arguments)

    assert callable(parsed.run)
