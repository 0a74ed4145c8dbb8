"""The Lambda cold start: importing the handler against importing the libraries it needs.

Each figure is one fresh interpreter importing one set of modules, timed inside it, so
neither set benefits from the other's imports; the two sets alternate run by run, so
both see the same machine load. The median of the runs is reported.

The handler's set is what a production container loads before its first record: the
handler module, and the OpenSearch adapter that the composition root imports when
``STREAMFOLD_SEARCH`` is an OpenSearch URL. The libraries' set is what no implementation
of the handler could avoid: boto3, opensearch-py, eventsourcing with its PostgreSQL
recorder, and the parts of pydantic the domain's models use.

Both sets load bytecode, as they do in a Lambda: the libraries' was compiled when they
were installed, and the handler's code is imported from the Lambda package's code as
``deploy/build_lambda.py`` builds it (the CLI-only modules left out, bytecode compiled
ahead). Importing the working tree instead would compile every module from source on
every run wherever ``PYTHONDONTWRITEBYTECODE`` is set, which no Lambda does.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDLER_MODULES = ("infrastructure.lambda_handlers", "infrastructure.adapters.opensearch")
LIBRARY_MODULES = (
    "boto3",
    "opensearchpy",
    "eventsourcing.application",
    "eventsourcing.postgres",
    "pydantic.main",
    "pydantic.types",
    "pydantic.functional_validators",
)
# What the Lambda package leaves out: nothing on the handler's path may need it.
EXCLUDED_FROM_LAMBDA = (
    "tantivy",
    "rich",
    "infrastructure.adapters.embedded",
    "infrastructure.entrypoints.cli",
)

_PROBE = """
import importlib, json, sys, time
started = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
seconds = time.perf_counter() - started
loaded = sorted(n for n in {excluded!r} if n in sys.modules)
origin = getattr(sys.modules[{modules!r}[0].partition(".")[0]], "__file__", None)
print(json.dumps({{"seconds": seconds, "excluded_loaded": loaded, "origin": origin}}))
"""
# The first invocation: the handler imported (not counted here), then one batch of 100
# records through it, which wires the composition root (settings, connections, the
# adapters) before handling the records.
_FIRST_INVOCATION = """
import json, os, sys, time
event = json.loads(open({event!r}).read())
os.environ.update({environ!r})
sys.stdout = open(os.devnull, "w")  # the handler's log line and metrics
from infrastructure.lambda_handlers import stream_handler
started = time.perf_counter()
answer = stream_handler(event, None)
seconds = time.perf_counter() - started
sys.stdout = sys.__stdout__
print(json.dumps({{"seconds": seconds, "failures": len(answer["batchItemFailures"])}}))
"""
_BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "build_lambda.py"


@dataclass(frozen=True)
class ColdStartFigures:
    handler_seconds: list[float]
    library_seconds: list[float]
    excluded_loaded: list[str]  # modules the Lambda package leaves out, found loaded
    handler_from: str = "the Lambda package"  # or "the working tree", without a build script
    first_invocation_seconds: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.handler_seconds) / statistics.median(self.library_seconds)


def import_seconds(modules: Sequence[str], where: Path | None = None) -> tuple[float, list[str]]:
    """Seconds a fresh interpreter takes to import ``modules``, and excluded modules it loaded.

    With ``where``, the modules' top-level package must be imported from that directory.

    >>> import_seconds(["boto3"])
    (0.21, [])
    """
    probe = _PROBE.format(modules=tuple(modules), excluded=EXCLUDED_FROM_LAMBDA)
    answer = subprocess.run(  # noqa: S603 - this interpreter, running our own probe
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=where
    ).stdout
    figures = json.loads(answer.strip().splitlines()[-1])
    origin = figures["origin"]
    if where is not None and not (origin and Path(origin).is_relative_to(where)):
        raise RuntimeError(f"{modules[0]} was imported from {origin}, not from {where}")
    return float(figures["seconds"]), list(figures["excluded_loaded"])


def build_lambda_code(output: Path) -> bool:
    """The Lambda package's code, bytecode compiled, in ``output``; False without the script."""
    if not _BUILD_SCRIPT.is_file():
        return False
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    subprocess.run(  # noqa: S603 - this interpreter, running the project's own build script
        [sys.executable, str(_BUILD_SCRIPT), "--no-dependencies", "--output", str(output),
         "--python-version", version],
        check=True, capture_output=True,
    )  # fmt: skip
    return True


def measure_cold_start(runs: int = 9) -> ColdStartFigures:
    """Import the handler's and the libraries' modules ``runs`` times each, alternating.

    >>> measure_cold_start(runs=9).ratio
    1.42
    """
    handler: list[float] = []
    libraries: list[float] = []
    excluded: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="streamfold-lambda-") as directory:
        package = Path(directory) / "lambda"
        where = package if build_lambda_code(package) else None
        for _ in range(runs):
            seconds, loaded = import_seconds(HANDLER_MODULES, where)
            handler.append(seconds)
            excluded.update(loaded)
            libraries.append(import_seconds(LIBRARY_MODULES)[0])
    handler_from = "the Lambda package" if where is not None else "the working tree"
    return ColdStartFigures(handler, libraries, sorted(excluded), handler_from)


def first_invocation_seconds(environ: dict[str, str], event: Path, where: Path | None) -> float:
    """Seconds a fresh interpreter's first stream-handler call takes, imports done before."""
    probe = _FIRST_INVOCATION.format(event=str(event), environ=environ)
    answer = subprocess.run(  # noqa: S603 - this interpreter, running our own probe
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=where
    ).stdout
    figures = json.loads(answer.strip().splitlines()[-1])
    if figures["failures"]:
        raise RuntimeError(f"the first invocation left {figures['failures']} records to retry")
    return float(figures["seconds"])


def measure_first_invocations(postgres_admin: str, search_url: str, runs: int) -> list[float]:
    """The first invocation on PostgreSQL + OpenSearch, each on a fresh database and indices.

    Tables and indices exist before it, as in a deployment (``streamfold migrate``).
    """
    from devtools.benchmarks.scratch import scratch_database
    from devtools.demo import CrmWorkload, lambda_events
    from infrastructure.composition import Streamfold
    from infrastructure.settings import OpenSearchTarget, Settings

    (event, *_) = lambda_events(CrmWorkload(seed=13, users=20).records, 100)
    seconds = []
    with tempfile.TemporaryDirectory(prefix="streamfold-lambda-") as directory:
        package = Path(directory) / "lambda"
        where = package if build_lambda_code(package) else None
        batch = Path(directory) / "event.json"
        batch.write_text(json.dumps(event))
        for run in range(runs):
            with scratch_database(postgres_admin) as database:
                prefix = f"cold-{run}-{Path(directory).name[-6:].lower()}"
                settings = Settings(database, OpenSearchTarget(search_url, "none"), {}, prefix)
                with Streamfold.from_settings(settings) as app:
                    app.index.prepare()
                environ = {
                    "STREAMFOLD_EVENT_STORE": f"postgresql://{database.user}@{database.host}:"
                    f"{database.port}/{database.dbname}",
                    "STREAMFOLD_SEARCH": search_url,
                    "STREAMFOLD_INDEX_PREFIX": prefix,
                }
                seconds.append(first_invocation_seconds(environ, batch, where))
    return seconds


def describe(figures: ColdStartFigures) -> dict[str, Any]:
    first = figures.first_invocation_seconds
    return {
        "first_invocation_median_seconds": round(statistics.median(first), 3) if first else None,
        "first_invocation_runs": len(first),
        "runs": len(figures.handler_seconds),
        "handler_modules": list(HANDLER_MODULES),
        "library_modules": list(LIBRARY_MODULES),
        "handler_median_seconds": round(statistics.median(figures.handler_seconds), 3),
        "libraries_median_seconds": round(statistics.median(figures.library_seconds), 3),
        "handler_min_seconds": round(min(figures.handler_seconds), 3),
        "libraries_min_seconds": round(min(figures.library_seconds), 3),
        "ratio": round(figures.ratio, 2),
        "handler_imported_from": figures.handler_from,
        "excluded_modules_loaded": figures.excluded_loaded,
    }
