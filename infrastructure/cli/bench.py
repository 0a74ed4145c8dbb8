"""``streamfold bench``: benchmarks that print figures and ratios against a baseline."""

from __future__ import annotations

import argparse
from typing import Any

from infrastructure.benchmarks import cold_start
from infrastructure.benchmarks.pipeline import describe, measure_pipeline
from infrastructure.benchmarks.queries import measure_queries
from infrastructure.cli.export import add_export_bench
from infrastructure.cli.output import console, print_json


def add_bench_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="measure throughput and latency")
    which = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    add_cold_start_bench(which)
    add_export_bench(which)
    pipeline = which.add_parser(
        "pipeline", help="records/s through the embedded pipeline vs. decoding alone"
    )
    pipeline.add_argument("--users", type=int, default=2000)
    pipeline.add_argument("--batch-size", type=int, default=1000)
    pipeline.add_argument("--json", action="store_true")
    pipeline.set_defaults(run=run_pipeline_bench, needs_app=False)

    queries = which.add_parser(
        "queries", help="p50/p95 query latency on a generated embedded index"
    )
    queries.add_argument("--images", type=int, default=1_000_000)
    queries.add_argument("--users", type=int, default=200_000)
    queries.add_argument("--runs", type=int, default=200, help="timed runs per query type")
    queries.add_argument("--json", action="store_true")
    queries.set_defaults(run=run_queries_bench, needs_app=False)

    rebuild = which.add_parser(
        "rebuild", help="events/s and peak memory of a full rebuild, at two sizes"
    )
    rebuild.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    rebuild.add_argument("--workers", type=int, default=1, help="worker processes, one slice each")
    rebuild.add_argument("--json", action="store_true")
    rebuild.set_defaults(run=run_rebuild_bench, needs_app=False)

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

    add_history_bench(which)

    screen = which.add_parser(
        "ui", help="the CRM screen in Chromium: keystroke-to-results p50/p95, first-load bytes"
    )
    screen.add_argument("--users", type=int, default=100_000)
    screen.add_argument("--images", type=int, default=100_000)
    screen.add_argument("--keystrokes", type=int, default=200, help="timed keystrokes")
    screen.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    screen.add_argument("--json", action="store_true")
    screen.set_defaults(run=run_ui_bench, needs_app=False)


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
        "  tantivy alone, same writes and commits, one core:\n"
        f"    the kinds' schemas      {figures['tantivy_alone_records_per_second']:>9,} records/s"
        f"  ({figures['tantivy_alone_to_floor_ratio']}x the floor)\n"
        f"    ids, bodies, full text  {figures['minimal_tantivy_records_per_second']:>9,} records/s"
        f"  ({figures['minimal_tantivy_to_floor_ratio']}x the floor)\n"
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


def add_cold_start_bench(which: Any) -> None:
    cold = which.add_parser(
        "cold-start", help="Lambda handler import time vs. importing its libraries alone"
    )
    cold.add_argument("--runs", type=int, default=9, help="fresh interpreters per side")
    cold.add_argument("--json", action="store_true")
    cold.set_defaults(run=run_cold_start_bench, needs_app=False)


def run_cold_start_bench(_: Any, args: argparse.Namespace) -> int:
    figures = cold_start.describe(cold_start.measure_cold_start(runs=max(args.runs, 1)))
    if args.json:
        print_json(figures)
        return 0
    console.print(
        f"median of {figures['runs']} fresh interpreters each:\n"
        f"  handler import path  {figures['handler_median_seconds']:>6.3f} s "
        f"({', '.join(figures['handler_modules'])}, from "
        f"{figures['handler_imported_from']})\n"
        f"  libraries alone      {figures['libraries_median_seconds']:>6.3f} s "
        f"({', '.join(figures['library_modules'])})\n"
        f"  ratio                {figures['ratio']:>6.2f}x\n"
        f"  left-out modules loaded: {figures['excluded_modules_loaded'] or 'none'}"
    )
    return 0


def run_rebuild_bench(_: Any, args: argparse.Namespace) -> int:
    from infrastructure.benchmarks.rebuild import measure_rebuild

    rows = []
    for size in args.events:
        figures = measure_rebuild(size, workers=max(args.workers, 1))
        rows.append(
            {
                "events": figures.events,
                "documents": figures.documents,
                "workers": figures.workers,
                "events_per_second": round(figures.events_per_second),
                "events_per_cpu_second": round(figures.events / max(figures.cpu_seconds, 1e-9)),
                "peak_memory_mib": round(figures.peak_memory_mib, 1),
            }
        )
        if not args.json:
            console.print(
                f"rebuild of {figures.events:,} events ({figures.documents:,} documents, "
                f"{figures.workers} worker(s)): {figures.events_per_second:,.0f} events/s, "
                f"{rows[-1]['events_per_cpu_second']:,} per CPU-second, "
                f"peak memory {figures.peak_memory_mib:,.1f} MiB"
            )
    if len(rows) > 1 and not args.json:
        ratio = rows[-1]["peak_memory_mib"] / rows[0]["peak_memory_mib"]
        console.print(f"peak memory, largest / smallest: {ratio:.2f}x")
    if args.json:
        print_json(rows)
    return 0


def run_queries_bench(_: Any, args: argparse.Namespace) -> int:
    console.print(
        f"Writing {args.images:,} images and {args.users:,} users into a fresh embedded index ..."
    )
    corpus, figures = measure_queries(images=args.images, users=args.users, runs=args.runs)
    if args.json:
        print_json(
            {
                "images": corpus.images,
                "users": corpus.users,
                "build_seconds": round(corpus.seconds, 1),
                "latency_ms": {f.name: {"p50": f.p50_ms, "p95": f.p95_ms} for f in figures},
                "runs": args.runs,
            }
        )
        return 0
    console.print(f"built in {corpus.seconds:.0f} s; {args.runs} timed runs per query type:")
    for f in figures:
        console.print(f"  {f.name:<16} p50 {f.p50_ms:>6.1f} ms   p95 {f.p95_ms:>6.1f} ms")
    return 0


def run_ui_bench(_: Any, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from infrastructure.benchmarks.ui import measure_ui

    console.print(
        f"Writing {args.users:,} users and {args.images:,} images into a fresh embedded index, "
        "then driving the screen in headless Chromium ..."
    )
    figures = measure_ui(args.users, args.images, max(args.keystrokes, 2), args.chromium)
    if args.json:
        print_json(asdict(figures))
        return 0
    console.print(
        f"{figures.users:,} users, {figures.images:,} images "
        f"(built in {figures.build_seconds:.0f} s)\n"
        f"  keystroke to rendered results  p50 {figures.keystroke_p50_ms:>6.1f} ms   "
        f"p95 {figures.keystroke_p95_ms:>6.1f} ms   max {figures.keystroke_max_ms:.1f} ms "
        f"({figures.keystrokes} keystrokes)\n"
        f"  of which the API request       p50 {figures.api_p50_ms:>6.1f} ms   "
        f"p95 {figures.api_p95_ms:>6.1f} ms\n"
        f"  first load, search page        {figures.search_page_bytes / 1000:>6.1f} KB "
        f"in {figures.search_page_requests} requests\n"
        f"  first load, dashboards page    {figures.dashboards_page_bytes / 1000:>6.1f} KB "
        f"in {figures.dashboards_page_requests} requests\n"
        f"  load average (1 min) at the end {figures.load_average}"
    )
    return 0


def add_history_bench(which: Any) -> None:
    history = which.add_parser(
        "history", help="history and as-of latency of a busy user, and the feed index's cost"
    )
    history.add_argument("--users", type=int, default=37_000, help="background CRM users")
    history.add_argument("--hot-likes", type=int, default=10_000, help="likes on the hot user")
    history.add_argument("--runs", type=int, default=20, help="timed runs of each query")
    history.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="ingestions without and with the index (fastest counts)",
    )
    history.add_argument("--quick", action="store_true", help="1,000 users: a quick look")
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=run_history_bench, needs_app=False)


def run_history_bench(_: Any, args: argparse.Namespace) -> int:
    from infrastructure.benchmarks.history import measure_history

    users = 1_000 if args.quick else args.users
    figures = measure_history(users, args.hot_likes, args.runs, args.pairs).describe()
    if args.json:
        print_json(figures)
    else:
        for name, value in figures.items():
            console.print(f"{name}: {value}")
    return 0
