"""``streamfold bench``: benchmarks that print figures and ratios against a baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from devtools.benchmarks import cold_start
from devtools.benchmarks.pipeline import describe, measure_pipeline, summarize
from devtools.benchmarks.queries import measure_queries
from domain.errors import TransientFailure
from infrastructure.entrypoints.cli.export import add_export_bench
from infrastructure.entrypoints.cli.output import console, print_json
from infrastructure.entrypoints.cli.parser import UsageError


def add_bench_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="measure throughput and latency")
    which = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    add_cold_start_bench(which)
    add_export_bench(which)
    add_concurrency_bench(which)
    add_bootstrap_bench(which)
    add_quick_run(which)
    pipeline = which.add_parser(
        "pipeline", help="records/s through the embedded pipeline vs. decoding alone"
    )
    pipeline.add_argument("--users", type=int, default=2000)
    pipeline.add_argument("--batch-size", type=int, default=1000)
    pipeline.add_argument(
        "--without-feed-index", action="store_true",
        help="the baseline of the document-history feed index's cost: the projection "
        "keeps no feed rows in this run",
    )  # fmt: skip
    pipeline.add_argument(
        "--one-process", action="store_true",
        help="the baseline of the second process's gain: every group settles in the "
        "recording process (ADR 0029)",
    )  # fmt: skip
    pipeline.add_argument(
        "--runs", type=int, default=3, help="runs, each on a fresh store (median, min, max)"
    )
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
    versus.add_argument(
        "--runs", type=int, default=3,
        help="runs of both consumers, each on a fresh database (median, min, max)",
    )  # fmt: skip
    versus.add_argument(
        "--latency", type=float, default=0.0, metavar="MS",
        help="milliseconds added to each OpenSearch request, for both consumers (a loopback "
        "proxy)",
    )  # fmt: skip
    versus.add_argument(
        "--postgres-latency", type=float, metavar="MS",
        help="milliseconds added to each PostgreSQL round trip (default: 1 with --latency)",
    )  # fmt: skip
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
    from contextlib import nullcontext

    from devtools.benchmarks.history import feed_index_off

    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    runs = []
    with feed_index_off() if args.without_feed_index else nullcontext():
        for _ in range(args.runs):
            measured = measure_pipeline(
                users=args.users, batch_size=args.batch_size, second_process=not args.one_process
            )
            runs.append(describe(measured))
    figures = summarize(runs)
    figures["feed_index"] = not args.without_feed_index
    figures["second_process"] = not args.one_process
    if args.json:
        print_json(figures)
        return 0
    settles = figures["settles"]
    shared_end = "; the end rendered by both processes" if settles.get("rendered_in_both") else ""
    console.print(
        f"{figures['records']:,} stream records in batches of {figures['batch_size']}"
        f" (the command line's path: settled a group at a time; median of {figures['runs']}"
        f" run(s), min-max; the median run: {figures['settles']['settles']} settles,"
        f" {figures['settles']['in_background']} of them in a second process while the next"
        f" group was recorded, {figures['settles']['folded_only']} of those folding only"
        f"{shared_end}):\n"
        f"  whole embedded pipeline   {_spread_of(figures['pipeline_records_per_second'])}"
        " records/s\n"
        f"  JSON + DynamoDB decoding  {_spread_of(figures['floor_records_per_second'])}"
        " records/s  (the floor: its fastest pass before and after the run, under the"
        " pipeline's collector settings)\n"
        f"  ratio (pipeline / floor)  {_spread_of(figures['pipeline_to_floor_ratio'], 'x')}\n"
        "    against the floor with the collector's defaults"
        f" {_spread_of(figures['pipeline_to_default_collector_floor_ratio'], 'x', width=0)}"
        f" ({_spread_of(figures['default_collector_floor_records_per_second'], width=0)}"
        " records/s)\n"
        "    against the same decoding as streamfold does it"
        f" {_spread_of(figures['pipeline_to_own_decoding_ratio'], 'x', width=0)}"
        f" ({_spread_of(figures['own_decoding_records_per_second'], width=0)} records/s:"
        " orjson and streamfold's deserializer, faster than the floor's json and boto3's)\n"
        f"    until the last batch was recorded"
        f" {_spread_of(figures['recording_to_floor_ratio'], 'x', width=0)} the floor"
        " (the rest: the command's settle at the end)\n"
        f"    both processes' CPU time, halved"
        f" {_spread_of(figures['shared_cpu_to_floor_ratio'], 'x', width=0)} the floor"
        f" (the run on two perfectly shared cores; the median run's CPU seconds:"
        f" {figures['cpu_seconds']})\n"
        "  tantivy alone, same writes and commits, one core:\n"
        f"    the kinds' schemas      {_spread_of(figures['tantivy_alone_records_per_second'])}"
        f" records/s  (the median run: {figures['tantivy_alone_to_floor_ratio']}x the floor)\n"
        f"    ids, bodies, full text  {_spread_of(figures['minimal_tantivy_records_per_second'])}"
        f" records/s  (the median run: {figures['minimal_tantivy_to_floor_ratio']}x the floor)\n"
        "  lower bound of the whole job (decode, store the events, index the final documents"
        " once):\n"
        f"                            {_spread_of(figures['lower_bound_records_per_second'])}"
        " records/s\n"
        f"  pipeline / lower bound    {_spread_of(figures['pipeline_to_lower_bound_ratio'], 'x')}"
        f"  (the median run's seconds: {figures['lower_bound_seconds']})\n"
        f"  seconds per stage         {figures['stage_seconds']}"
        " (the median run; projection and search partly in the second process)\n"
        f"  documents                 {figures['documents']}"
        f" ({figures['documents_written']:,} written in all, both processes)"
    )
    return 0


def _spread_of(figures: dict[str, float], unit: str = "", width: int = 9) -> str:
    """``median (min-max)`` of a figure measured over several runs, the median aligned."""
    from devtools.benchmarks.figures import shown

    return shown(figures, unit, width)


def run_opensearch_bench(_: Any, args: argparse.Namespace) -> int:
    from devtools.benchmarks.opensearch import compare, describe_runs
    from devtools.benchmarks.scratch import scratch_database, search_server

    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    postgres_latency = args.postgres_latency
    if postgres_latency is None:
        postgres_latency = 1.0 if args.latency else 0.0
    runs = []
    with search_server(args.opensearch) as url:
        for _ in range(args.runs):
            with scratch_database(args.postgres) as postgres:
                run = compare(
                    url, postgres, users=args.users, batch_size=args.batch_size,
                    latency_ms=args.latency, postgres_latency_ms=postgres_latency,
                )  # fmt: skip
                runs.append(run)
    result = {
        "batch_size": args.batch_size,
        "latency_ms": args.latency,
        "postgres_latency_ms": postgres_latency,
        **describe_runs(runs),
    }
    if args.json:
        print_json(result)
        return 0
    naive, streamfold = result["naive_records_per_second"], result["streamfold_records_per_second"]
    speedup = result["speedup"]
    console.print(
        f"{result['records']:,} stream records, same workload, same OpenSearch, batches of "
        f"{args.batch_size}, {args.latency:g} ms added per OpenSearch request, "
        f"{postgres_latency:g} ms per PostgreSQL round trip; median of {result['runs']} "
        "run(s) (min-max):\n"
        f"  naive (one index call per record)    {_spread_of(naive, '/s', 7)}\n"
        f"  streamfold (PostgreSQL + OpenSearch) {_spread_of(streamfold, '/s', 7)}\n"
        f"  speedup                                {_spread_of(speedup, 'x', 7)}\n"
        f"  streamfold seconds per stage           {result['median_run_stage_seconds']}"
        " (the median run)"
    )
    return 0


def add_cold_start_bench(which: Any) -> None:
    cold = which.add_parser(
        "cold-start", help="Lambda handler import time vs. importing its libraries alone"
    )
    cold.add_argument("--runs", type=int, default=9, help="fresh interpreters per side")
    cold.add_argument(
        "--no-first-invocation", dest="first_invocation", action="store_false",
        help="measure the imports only, without PostgreSQL and the OpenSearch test server",
    )  # fmt: skip
    cold.add_argument("--opensearch", help="an OpenSearch URL (default: the test server)")
    cold.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL; a scratch database is created there per run and dropped after",
    )  # fmt: skip
    cold.add_argument("--json", action="store_true")
    cold.set_defaults(run=run_cold_start_bench, needs_app=False)


def run_cold_start_bench(_: Any, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from devtools.benchmarks.scratch import search_server

    runs = max(args.runs, 1)
    measured = cold_start.measure_cold_start(runs=runs)
    if args.first_invocation:
        with search_server(args.opensearch) as url:
            first = cold_start.measure_first_invocations(args.postgres, url, runs)
        measured = replace(measured, first_invocation_seconds=first)
    figures = cold_start.describe(measured)
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
        + (
            f"  first invocation     {figures['first_invocation_median_seconds']:>6.3f} s "
            "(after the imports: wiring the composition root and a first batch of 100 records "
            "on PostgreSQL + OpenSearch)\n"
            if figures["first_invocation_runs"]
            else ""
        )
        + f"  left-out modules loaded: {figures['excluded_modules_loaded'] or 'none'}"
    )
    return 0


def run_rebuild_bench(_: Any, args: argparse.Namespace) -> int:
    from devtools.benchmarks.rebuild import measure_rebuild

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

    from devtools.benchmarks.ui import measure_ui

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
        "history", help="history and as-of latency of a busy user in a big store"
    )
    history.add_argument("--users", type=int, default=37_000, help="background CRM users")
    history.add_argument("--hot-likes", type=int, default=10_000, help="likes on the hot user")
    history.add_argument("--runs", type=int, default=20, help="timed runs of each query")
    history.add_argument(
        "--store", type=Path, metavar="DIR",
        help="time on the embedded store in DIR, built there first if DIR holds none",
    )  # fmt: skip
    history.add_argument(
        "--pad-to", type=int, metavar="EVENTS",
        help="first append copies of the store's events (mirrored aggregate ids, never "
        "projected) until it holds EVENTS: a big events table without hours of ingestion",
    )  # fmt: skip
    history.add_argument(
        "--ingestion-ab", type=int, metavar="PAIRS",
        help="instead: ingest the --users workload without and with the feed index, "
        "alternated PAIRS times, and print wall and CPU throughput of each run",
    )  # fmt: skip
    history.add_argument("--quick", action="store_true", help="1,000 users: a quick look")
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=run_history_bench, needs_app=False)


def run_history_bench(_: Any, args: argparse.Namespace) -> int:
    from devtools.benchmarks.history import measure_history

    users = 1_000 if args.quick else args.users
    if args.ingestion_ab is not None:
        from devtools.benchmarks.history import ingestion_ab

        runs = [run.describe() for run in ingestion_ab(users, args.ingestion_ab)]
        if args.json:
            print_json({"runs": runs})
        else:
            for run in runs:
                console.print(run)
        return 0
    if args.pad_to is not None:
        from devtools.benchmarks.history import pad_store

        if args.store is None:
            raise UsageError("--pad-to needs --store: a store kept between runs")
        if not (args.store / "events.db").exists():
            raise UsageError(f"--pad-to: no store in {args.store}; build it with --store first")
        sys.stderr.write(f"appended {pad_store(args.store, args.pad_to):,} copied events\n")
    figures = measure_history(users, args.hot_likes, args.runs, args.store).describe()
    if args.json:
        print_json(figures)
    else:
        for name, value in figures.items():
            console.print(f"{name}: {value}")
    return 0


def add_concurrency_bench(which: Any) -> None:
    concurrency = which.add_parser(
        "concurrency",
        help="N stream-handler processes at once on PostgreSQL + OpenSearch, over added latency",
    )
    concurrency.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4, 8], metavar="N")
    concurrency.add_argument("--users", type=int, default=1000, help="workload size")
    concurrency.add_argument("--postgres-ms", type=float, default=1.0, help="per round trip")
    concurrency.add_argument("--search-ms", type=float, default=5.0, help="per request")
    concurrency.add_argument("--opensearch", help="an OpenSearch URL (default: the test server)")
    concurrency.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL; a scratch database is created there per N and dropped after",
    )  # fmt: skip
    concurrency.add_argument(
        "--runs", type=int, default=3,
        help="times every N is measured, each run against its own N=1 (median, min, max)",
    )  # fmt: skip
    concurrency.add_argument("--json", action="store_true")
    concurrency.set_defaults(run=run_concurrency_bench, needs_app=False)


def run_concurrency_bench(_: Any, args: argparse.Namespace) -> int:
    from devtools.benchmarks import concurrency
    from devtools.benchmarks.scratch import search_server

    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    runs = []
    with search_server(args.opensearch) as url:
        for _ in range(args.runs):
            rows = concurrency.measure_concurrency(
                args.postgres, url, processes=args.processes, users=args.users,
                postgres_ms=args.postgres_ms, search_ms=args.search_ms,
            )  # fmt: skip
            runs.append(concurrency.describe(rows))
    summary = concurrency.summarize(runs)
    if args.json:
        print_json({"runs": runs, "summary": summary})
        return 0
    console.print(
        f"stream handler processes at once, batches of {concurrency.BATCH_SIZE}, "
        f"{args.postgres_ms:g} ms per PostgreSQL round trip, {args.search_ms:g} ms per "
        f"OpenSearch request; median of {len(runs)} run(s), min-max:"
    )
    for line in concurrency.summary_lines(summary):
        console.print(line)
    console.print("the median run (by its last N's ratio to its first):")
    for line in concurrency.report_lines(concurrency.median_run(runs)):
        console.print(line)
    return 0


def add_bootstrap_bench(which: Any) -> None:
    boot = which.add_parser(
        "bootstrap", help="items/s of a bootstrap from moto tables: the scan, and the rest"
    )
    boot.add_argument("--items", type=int, default=200_000, help="items in the tables, at least")
    boot.add_argument("--runs", type=int, default=3, help="runs per target (median, min, max)")
    boot.add_argument("--opensearch", help="an OpenSearch URL (default: the test server)")
    boot.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL; a scratch database is created there per run and dropped after",
    )  # fmt: skip
    boot.add_argument(
        "--target", choices=["all", "embedded", "postgresql+opensearch"], default="all",
        help="which targets to bootstrap into (default: both)",
    )  # fmt: skip
    boot.add_argument(
        "--baseline", action="store_true",
        help="also bootstrap each target settled in groups (as into a store that has folded),"
        " alternated with the first build, and print the ratio",
    )  # fmt: skip
    boot.add_argument("--json", action="store_true")
    boot.set_defaults(run=run_bootstrap_bench, needs_app=False)


def run_bootstrap_bench(_: Any, args: argparse.Namespace) -> int:
    from devtools.benchmarks import bootstrap as bench
    from devtools.benchmarks.scratch import search_server

    runs = max(args.runs, 1)
    console.print(f"Loading at least {args.items:,} items into moto tables (not timed) ...")
    with bench.moto_tables(args.items) as (client, tables, _), search_server(
        args.opensearch
    ) as url:  # fmt: skip
        console.print("Timing the parallel scan alone (its answers are kept for the runs) ...")
        scans = bench.time_scan(client, tables)
        targets = {
            "embedded": bench.embedded_target,
            "postgresql+opensearch": bench.opensearch_target(args.postgres, url),
        }
        paths = (bench.FIRST_BUILD, bench.IN_GROUPS) if args.baseline else (bench.FIRST_BUILD,)
        rows: list[dict[str, Any]] = []
        for name, target in targets.items():
            if args.target not in ("all", name):
                continue
            try:
                measured = bench.measure_bootstrap(scans, tables, target, runs, paths)
            except TransientFailure as error:
                # One target's failure leaves the figures of the others to report.
                rows.append({"target": name, "error": str(error)})
                console.print(f"{name}: a run failed: {error}")
                continue
            rows.append(bench.describe(name, scans, measured))
            if not args.json:
                _print_bootstrap_row(rows[-1])
    if args.json:
        print_json(rows)
    return 3 if any("error" in row for row in rows) else 0


def _print_bootstrap_row(row: dict[str, Any]) -> None:
    rest, cpu = row["bootstrap_without_scan_items_per_second"], row["bootstrap_cpu_seconds"]
    console.print(
        f"{row['target']}: {row['items']:,} items, median of {row['runs']} (min-max)\n"
        f"  scan alone (timed once) {row['scan_items_per_second']:>8,} items/s\n"
        f"  bootstrap without scan  {_spread_of(rest, ' items/s', 8)}\n"
        f"  its CPU seconds         {_spread_of(cpu, width=8)}, "
        "this process and its second one"
    )
    if "lower_bound_items_per_second" in row:
        parts = row["lower_bound_seconds"]
        console.print(
            f"  lower bound (one core)  {row['lower_bound_items_per_second']:>8,} items/s"
            f" (decode {parts['decode']} s, store the events {parts['store_events']} s,"
            f" index the documents {parts['index_documents']} s);"
            f" the bootstrap is {row['bootstrap_to_lower_bound']}x it"
        )
    if "settled_in_groups_items_per_second" in row:
        grouped = row["settled_in_groups_cpu_seconds"]
        rate = row["settled_in_groups_items_per_second"]
        console.print(
            f"  settled in groups       {_spread_of(rate, ' items/s', 8)}"
            f", CPU seconds {grouped['median']} ({grouped['min']}-{grouped['max']})\n"
            f"  first build / groups    {row['first_build_over_groups']:>8}x (medians)"
        )


# Every benchmark at a size that finishes in a few minutes on two cores: a smoke run of
# the harnesses, not figures for docs/performance.md.
QUICK_RUNS: tuple[tuple[str, ...], ...] = (
    ("pipeline", "--users", "200", "--runs", "1"),
    ("queries", "--images", "5000", "--users", "2000", "--runs", "20"),
    ("rebuild", "--events", "5000", "20000"),
    ("export", "--events", "20000", "--runs", "2"),
    ("opensearch", "--users", "30", "--batch-size", "100", "--latency", "5", "--runs", "1"),
    ("concurrency", "--users", "40", "--processes", "1", "2", "--runs", "1"),
    ("cold-start", "--runs", "2"),
    ("bootstrap", "--items", "3000", "--runs", "1", "--baseline"),
    ("ui", "--users", "2000", "--images", "2000", "--keystrokes", "10"),
    ("history", "--users", "200", "--hot-likes", "2000", "--runs", "5"),
)


def add_quick_run(which: Any) -> None:
    every = which.add_parser("all", help="run every benchmark, one after the other")
    every.add_argument(
        "--quick", action="store_true", required=True,
        help="at small sizes (the only mode: full sizes take hours; run them one by one)",
    )  # fmt: skip
    every.set_defaults(run=run_every_bench, needs_app=False)


def run_every_bench(_: Any, args: argparse.Namespace) -> int:
    import time

    from infrastructure.entrypoints.cli.main import build_parser

    failed = []
    for run in QUICK_RUNS:
        arguments = ["bench", *run]
        console.print(f"\n$ streamfold {' '.join(arguments)}")
        started = time.perf_counter()
        parsed = build_parser(arguments).parse_args(arguments)
        try:
            code = int(parsed.run(None, parsed))
        except Exception as error:  # noqa: BLE001 - one benchmark's failure ends only it
            console.print(f"streamfold bench {run[0]}: {type(error).__name__}: {error}")
            code = 1
        console.print(f"({time.perf_counter() - started:.0f} s)")
        if code:
            failed.append(run[0])
    if failed:
        console.print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0
