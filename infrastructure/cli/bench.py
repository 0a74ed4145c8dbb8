"""``streamfold bench``: benchmarks that print figures and ratios against a baseline."""

from __future__ import annotations

import argparse
from typing import Any

from infrastructure.benchmarks.pipeline import describe, measure_pipeline
from infrastructure.cli.output import console, print_json


def add_bench_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="measure throughput and latency")
    which = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    pipeline = which.add_parser(
        "pipeline", help="records/s through the embedded pipeline vs. decoding alone"
    )
    pipeline.add_argument("--users", type=int, default=2000)
    pipeline.add_argument("--batch-size", type=int, default=1000)
    pipeline.add_argument("--json", action="store_true")
    pipeline.set_defaults(run=run_pipeline_bench, needs_app=False)


def run_pipeline_bench(_: Any, args: argparse.Namespace) -> int:
    figures = describe(measure_pipeline(users=args.users, batch_size=args.batch_size))
    if args.json:
        print_json(figures)
        return 0
    console.print(
        f"{figures['records']:,} stream records in batches of {figures['batch_size']}:\n"
        f"  whole embedded pipeline   {figures['pipeline_records_per_second']:>9,} records/s\n"
        f"  JSON + DynamoDB decoding  {figures['floor_records_per_second']:>9,} records/s\n"
        f"  ratio (pipeline / floor)  {figures['pipeline_to_floor_ratio']:>9}x\n"
        f"  seconds per stage         {figures['stage_seconds']}\n"
        f"  documents                 {figures['documents']}"
    )
    return 0
