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

    versus = which.add_parser(
        "opensearch", help="streamfold on PostgreSQL + OpenSearch vs. one index call per record"
    )
    versus.add_argument("--opensearch", help="an OpenSearch URL (default: start the test server)")
    versus.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL; a scratch database is created there and dropped after",
    )  # fmt: skip
    versus.add_argument("--users", type=int, default=300)
    versus.add_argument("--batch-size", type=int, default=500)
    versus.add_argument("--json", action="store_true")
    versus.set_defaults(run=run_opensearch_bench, needs_app=False)


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


def run_opensearch_bench(_: Any, args: argparse.Namespace) -> int:
    from infrastructure.benchmarks.opensearch import compare
    from infrastructure.benchmarks.scratch import scratch_database, search_server

    with search_server(args.opensearch) as url, scratch_database(args.postgres) as postgres:
        figures = compare(url, postgres, users=args.users, batch_size=args.batch_size)
    result = {
        "records": figures.records,
        "naive_records_per_second": round(figures.naive_records_per_second),
        "streamfold_records_per_second": round(figures.streamfold_records_per_second),
        "speedup": round(figures.speedup, 2),
        "streamfold_stage_seconds": {k: round(v, 2) for k, v in figures.stage_seconds.items()},
    }
    if args.json:
        print_json(result)
        return 0
    console.print(
        f"{result['records']:,} stream records, same workload, same OpenSearch:\n"
        f"  naive (one index call per record)    {result['naive_records_per_second']:>7,}/s\n"
        f"  streamfold (PostgreSQL + OpenSearch) "
        f"{result['streamfold_records_per_second']:>7,}/s\n"
        f"  speedup                                {result['speedup']:>7}x\n"
        f"  streamfold seconds per stage           {result['streamfold_stage_seconds']}"
    )
    return 0
