"""One stream handler process: a Lambda container that receives its batches over a pipe.

Run as ``python -m tests.chaos.worker`` with the ``STREAMFOLD_*`` variables set. It reads
one JSON line per batch on stdin, ``{"id": N, "event": {...}, "remaining_ms": M}``, and
answers on its original stdout with ``{"id": N, "state": "started"}`` when it calls the
handler and ``{"id": N, "state": "done", "response": {...}}`` when the handler returns.
Everything the handler itself prints (JSON logs, metrics) goes to stderr, so the protocol
stays clean. ``{"state": "ready"}`` is sent once the handler module is imported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import IO, Any


class LambdaContext:
    """The part of AWS Lambda's context the handler reads: the time left."""

    def __init__(self, remaining_ms: int) -> None:
        self._deadline = time.monotonic() + remaining_ms / 1000
        self.aws_request_id = f"chaos-{os.getpid()}-{time.monotonic_ns()}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def send(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def main() -> None:
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the handler's own output must not mix with the protocol
    from infrastructure import lambda_handlers

    send(channel, {"state": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        send(channel, {"id": request["id"], "state": "started"})
        context = LambdaContext(int(request.get("remaining_ms", 60_000)))
        response = lambda_handlers.stream_handler(request["event"], context)
        send(channel, {"id": request["id"], "state": "done", "response": response})


if __name__ == "__main__":
    main()
