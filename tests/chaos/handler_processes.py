"""Handler processes driven from a test: send a batch, read the answer, SIGKILL, restart.

>>> handler = HandlerProcess.start(environment, log_path)
>>> handler.send(1, {"Records": [...]})
>>> handler.wait_for("done", timeout=30)["response"]
{'batchItemFailures': []}
>>> handler.kill()
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

REPOSITORY = Path(__file__).resolve().parents[2]


class HandlerDied(RuntimeError):
    """The handler process ended without answering."""


class HandlerProcess:
    """A ``tests.chaos.worker`` subprocess and the messages it sends back."""

    def __init__(self, process: subprocess.Popen[str], log: IO[str]) -> None:
        self.process = process
        self._log = log
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def start(cls, environment: Mapping[str, str], log_path: Path) -> HandlerProcess:
        log = log_path.open("a")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.worker"],
            cwd=REPOSITORY,
            env={**os.environ, **environment},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )
        return cls(process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float) -> None:
        self.wait_for("ready", timeout)

    def send(self, batch_id: int, event: Mapping[str, Any], remaining_ms: int = 60_000) -> None:
        assert self.process.stdin is not None
        line = json.dumps({"id": batch_id, "event": event, "remaining_ms": remaining_ms})
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, state: str, timeout: float) -> dict[str, Any]:
        """The next message, which must be in ``state``; raises on death or timeout."""
        try:
            message = self._messages.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"handler {self.pid} sent no {state!r} in {timeout} s") from None
        if message is None:
            raise HandlerDied(f"handler {self.pid} exited with {self.process.wait()}")
        if message.get("state") != state:
            raise AssertionError(f"handler {self.pid} sent {message!r}, expected {state!r}")
        return message

    def poll_for(self, state: str, timeout: float) -> dict[str, Any] | None:
        """Like `wait_for`, but None when nothing came within ``timeout``."""
        try:
            return self.wait_for(state, timeout)
        except TimeoutError:
            return None

    def rss_bytes(self) -> int:
        """The resident set size of the process, from ``/proc``."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no answer, connections dropped by the kernel."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def stop(self, timeout: float = 10) -> None:
        """End the process the polite way (stdin closed), or kill it."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip():
                self._messages.put(json.loads(line))
        self._messages.put(None)
