"""The CRM screen in a browser: keystroke-to-results latency and the first load's size.

A corpus of generated users (100,000 by default) and their images is written straight
into a fresh embedded index, as `bench queries` does; ``streamfold serve`` serves it and
headless Chromium (Debian's ``chromium``, driven by Playwright) opens the screen:

- **first load**: the bytes received (response headers and bodies as sent, i.e. gzip
  compressed, API answers included) until the search page, then the dashboards page,
  have drawn their results, each in a fresh browser context (cold cache);
- **keystrokes**: half-remembered names (a first name and a last name with two letters
  swapped) are typed into the users search one key at a time. For every key the page
  records the time from the input event to the first frame painted after the results
  of that text are drawn (User Timing measure ``streamfold:keystroke-to-results``); the
  next key waits for it, so every keystroke is a full round trip through the HTTP API,
  with its facet counts. The API's own share (the fetch's Resource Timing) is reported too.

>>> figures = measure_ui(users=100_000, images=100_000, keystrokes=200)
>>> figures.keystroke_p95_ms, figures.search_page_bytes
(61.2, 71034)
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.benchmarks.queries import build_corpus
from devtools.demo.people import person_name
from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.settings import DEFAULT_INDEX_PREFIX, ConfigError

CHROMIUM = "/usr/bin/chromium"
MEASURE = "streamfold:keystroke-to-results"
STARTUP_SECONDS = 60.0
WARM_UP_KEYSTROKES = 10
# The results on the screen are those of the address bar's query.
SEARCH_SETTLED = """() => {
    const results = document.getElementById("results");
    return results?.dataset.state === "ready" && results.dataset.query === location.search;
}"""
DASHBOARD_SETTLED = """() => document.getElementById("dashboard")?.dataset.state === "ready" """


@dataclass(frozen=True)
class UiFigures:
    users: int
    images: int
    build_seconds: float
    keystrokes: int
    keystroke_p50_ms: float
    keystroke_p95_ms: float
    keystroke_max_ms: float
    api_p50_ms: float
    api_p95_ms: float
    search_page_bytes: int
    search_page_requests: int
    dashboards_page_bytes: int
    dashboards_page_requests: int
    load_average: float  # the machine's, over the last minute of the run: it shares the CPU


def measure_ui(
    users: int = 100_000,
    images: int = 100_000,
    keystrokes: int = 200,
    chromium: str = CHROMIUM,
    seed: int = 17,
) -> UiFigures:
    """Build the corpus, serve it, and measure the screen in headless Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ConfigError("bench ui needs Playwright: pip install -e '.[dev]'") from None
    if not Path(chromium).exists():
        raise ConfigError(f"no browser at {chromium}: apt-get install chromium, or pass --chromium")
    with tempfile.TemporaryDirectory(prefix="streamfold-ui-bench-") as directory:
        data_dir = Path(directory)
        index = EmbeddedSearchIndex(data_dir / "index", index_prefix=DEFAULT_INDEX_PREFIX)
        try:
            corpus = build_corpus(index, images, users, random.Random(seed))
        finally:
            index.close()
        with served(data_dir) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            try:
                search_bytes, search_requests = first_load(browser, f"{url}/ui/", SEARCH_SETTLED)
                dashboards_bytes, dashboards_requests = first_load(
                    browser, f"{url}/ui/dashboards.html", DASHBOARD_SETTLED
                )
                typed, api = type_names(browser, url, keystrokes, random.Random(seed + 1))
            finally:
                browser.close()
    return UiFigures(
        users=users,
        images=images,
        build_seconds=round(corpus.seconds, 1),
        keystrokes=len(typed),
        keystroke_p50_ms=percentile(typed, 50),
        keystroke_p95_ms=percentile(typed, 95),
        keystroke_max_ms=round(max(typed), 1),
        api_p50_ms=percentile(api, 50),
        api_p95_ms=percentile(api, 95),
        search_page_bytes=search_bytes,
        search_page_requests=search_requests,
        dashboards_page_bytes=dashboards_bytes,
        dashboards_page_requests=dashboards_requests,
        load_average=round(os.getloadavg()[0], 1),
    )


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    """``streamfold serve`` over the embedded index in ``data_dir``, on a free port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFOLD_")}
    env["STREAMFOLD_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "infrastructure.entrypoints.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(f"streamfold serve exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):  # noqa: S310 - our own loopback URL
                return
        except OSError:
            time.sleep(0.1)
    raise ConfigError(f"streamfold serve did not answer within {STARTUP_SECONDS:.0f} s")


def first_load(browser: Any, url: str, settled: str) -> tuple[int, int]:
    """Bytes received and requests made until the page at ``url`` has drawn its data."""
    context = browser.new_context()
    try:
        page = context.new_page()
        finished: list[Any] = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(url)
        page.wait_for_function(settled, timeout=60_000)
        page.wait_for_load_state("networkidle")
        received = 0
        for request in finished:
            sizes = request.sizes()
            received += sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0)
        return received, len(finished)
    finally:
        context.close()


def type_names(
    browser: Any, url: str, keystrokes: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    """Keystroke-to-results and API times (ms) of ``keystrokes`` keys typed one by one."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}/ui/?kind=users")
        page.wait_for_function(SEARCH_SETTLED, timeout=60_000)
        typed: list[float] = []
        api: list[float] = []
        warm = WARM_UP_KEYSTROKES
        while len(typed) < keystrokes:
            if page.input_value("#q"):
                page.fill("#q", "")
                _wait_for_measures(page, 1)
            page.evaluate(
                "() => { performance.clearMeasures(); performance.clearResourceTimings(); }"
            )
            name = half_remembered(rng)
            for n, key in enumerate(name, start=1):
                page.keyboard.type(key)
                _wait_for_measures(page, n)  # each key's results drawn before the next key
            measured = page.evaluate(
                f"""() => ({{
                    typed: performance.getEntriesByName({MEASURE!r}).map(m => m.duration),
                    api: performance.getEntriesByType("resource")
                        .filter(r => r.name.endsWith("/v1/users/search")).map(r => r.duration),
                }})"""
            )
            skip = min(warm, len(measured["typed"]))
            warm -= skip
            typed += measured["typed"][skip:]
            api += measured["api"][skip:]
        return typed[:keystrokes], api
    finally:
        context.close()


def _wait_for_measures(page: Any, count: int) -> None:
    page.wait_for_function(
        f"() => performance.getEntriesByName({MEASURE!r}).length >= {count}", timeout=60_000
    )


def half_remembered(rng: random.Random) -> str:
    """A person's name as someone half remembers it: two letters of the last name swapped."""
    first, _, last = person_name(rng).partition(" ")
    if len(last) > 3:
        i = rng.randrange(1, len(last) - 2)
        last = last[:i] + last[i + 1] + last[i] + last[i + 2 :]
    return f"{first.lower()} {last.lower()}"


def percentile(values: list[float], n: int) -> float:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[n - 1], 1)
