"""What the browser tests run against: a demo dataset and `streamfold serve` processes.

The dataset is the demo workload (what ``streamfold demo`` ingests) plus a few users
written for the tests: one whose name is HTML, one with a name to misspell.
The shared server is a real ``streamfold serve`` on a free loopback port; tests that stop
their server or need token mode get one of their own, in process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Page

from devtools.demo import CrmWorkload, lambda_events
from devtools.demo.tables import SimulatedTables
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.http import authenticator_from_environment, create_app
from infrastructure.settings import Settings

DEMO_USERS = 120
DEMO_SEED = 7  # streamfold demo's default
HTML_NAME = '<script>window.pwned = true</script><img src=x onerror="window.pwned=true"> Mallory'
HTML_USER = "usr_html_name"
ADA = "usr_ada_lovelace"
ADA_IMAGE = "img_ada_notes"
STARTUP_SECONDS = 30.0


def streamfold_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a streamfold process using only ``data_dir`` (embedded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFOLD_")}
    env["STREAMFOLD_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def build_dataset(data_dir: Path) -> None:
    """What ``streamfold demo`` ingests, then the test users, through the Lambda handler's
    path (in this process: it saves two interpreter start-ups)."""
    settings = Settings.from_environment(streamfold_environment(data_dir))
    app = Streamfold.from_settings(settings)
    try:
        workload = CrmWorkload(seed=DEMO_SEED, users=DEMO_USERS)
        for event in [*lambda_events(workload.records, batch_size=2000), *extra_events()]:
            outcome = app.ingestion.handle(event)
            assert not outcome.failed and not outcome.dead_lettered
    finally:
        app.close()


def extra_events() -> list[dict[str, Any]]:
    """Lambda events (one per table's stream) creating the test users and an image."""
    tables = SimulatedTables(region="eu-west-1", seed=99)
    tables.put("users", _user(HTML_USER, HTML_NAME, "mallory@example.com", "pro", "DE"))
    tables.put("users", _user(ADA, "Ada Lovelace", "ada@analytical.example", "team", "GB"))
    tables.put(
        "images",
        {
            "imageId": ADA_IMAGE,
            "userId": ADA,
            "title": "Notes on the analytical engine",
            "imageUrl": "https://cdn.images.example/i/img_ada_notes.jpg",
            "createdAt": "2024-03-01T10:00:00Z",
            "status": "active",
            "sizeBytes": 123456,
        },
    )
    return lambda_events(tables.records, batch_size=100)


def _user(user_id: str, name: str, email: str, plan: str, country: str) -> dict[str, Any]:
    return {
        "userId": user_id,
        "email": email,
        "name": name,
        "plan": plan,
        "country": country,
        "createdAt": "2024-02-02T12:00:00Z",
        "marketingOptIn": False,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server of the API and the screen; `api` calls the API as the page does."""

    url: str
    shutdown: Callable[[], None] = field(repr=False)
    token: str | None = field(default=None, repr=False)
    stopped: bool = False

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("content-type", "application/json")
        if self.token:
            request.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if not self.stopped:
            self.shutdown()
            self.stopped = True


def start_server(data_dir: Path, log: Path) -> Server:
    """``streamfold serve`` on a free port, once its health check answers."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infrastructure.entrypoints.cli.main",
                "serve",
                "--port",
                str(port),
            ],
            env=streamfold_environment(data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def shutdown() -> None:
        process.terminate()
        process.wait(timeout=10)

    server = Server(f"http://127.0.0.1:{port}", shutdown)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamfold serve exited with {process.returncode}; see {log}")
        try:
            server.api("GET", "/health")
            return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)  # polling for the port to open, not waiting for a result
    server.stop()
    raise RuntimeError(f"streamfold serve did not answer within {STARTUP_SECONDS} s; see {log}")


@contextmanager
def serve_in_process(data_dir: Path, token: str | None = None) -> Iterator[Server]:
    """The app ``streamfold serve`` runs (its authentication from the same variables),
    served by uvicorn on a thread of this process: it starts in a fraction of the time
    of a new interpreter, for tests that need a server of their own."""
    auth = {"STREAMFOLD_API_AUTH": "token", "STREAMFOLD_API_TOKEN": token} if token else {}
    app = Streamfold.from_settings(Settings.from_environment(streamfold_environment(data_dir)))
    api = create_app(lambda: app.search, authenticator_from_environment(auth))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def shutdown() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    running = Server(f"http://127.0.0.1:{port}", shutdown, token)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for the port to open, not waiting for a result
        if not server.started:
            raise RuntimeError("the in-process server did not start")
        yield running
    finally:
        running.stop()
        app.close()


# -- reading the search screen ---------------------------------------------------------


def settled(page: Page) -> None:
    """Wait until the results on the screen are those of the query in the address bar."""
    page.wait_for_function(
        """() => {
            const results = document.getElementById("results");
            return results.dataset.state !== "loading" && results.dataset.query === location.search;
        }"""
    )


def shown_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator("#hits-body tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )
    return ids


def shown_total(page: Page) -> int:
    return int(page.locator("#total").get_attribute("data-total") or "-1")
