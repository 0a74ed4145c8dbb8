"""``streamfold serve``: the CRM search HTTP API and its browser screen on this machine.

Listens on 127.0.0.1 by default; the screen is at ``/ui/``, the API under ``/v1/``.
"""

from __future__ import annotations

import argparse
import os
import socket
from typing import TYPE_CHECKING, Any

from infrastructure.entrypoints.cli.output import console
from infrastructure.entrypoints.cli.parser import UsageError

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold

DEFAULT_PORT = 8000


def add_serve_command(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the search API and the CRM screen locally")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.set_defaults(run=run_serve)


def run_serve(app: Streamfold, args: argparse.Namespace) -> int:
    import uvicorn

    from infrastructure.entrypoints.http import authenticator_from_environment, create_app

    api = create_app(
        lambda: app.search, authenticator_from_environment(os.environ), history=lambda: app.history
    )
    # Bound before the banner, so that a busy port is the only thing said.
    listening = _listen(args.host, args.port)
    console.print(
        f"CRM search API on http://{args.host}:{args.port} "
        f"(OpenAPI at /docs and /openapi.json), the CRM screen at "
        f"http://{args.host}:{args.port}/ui/; Ctrl-C stops it."
    )
    config = uvicorn.Config(api, host=args.host, port=args.port, log_level="warning")
    uvicorn.Server(config).run(sockets=[listening])
    return 0


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({error.strerror or error}): another server may "
            "be using the port; choose another with --port"
        ) from None
    listening.listen(2048)
    listening.setblocking(False)
    return listening
