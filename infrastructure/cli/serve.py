"""``streamfold serve``: the CRM search HTTP API and its browser screen on this machine.

Listens on 127.0.0.1 by default; the screen is at ``/ui/``, the API under ``/v1/``.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from infrastructure.cli.output import console

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

    from infrastructure.http import authenticator_from_environment, create_app

    api = create_app(lambda: app.search, authenticator_from_environment(os.environ))
    console.print(
        f"CRM search API on http://{args.host}:{args.port} "
        f"(OpenAPI at /docs and /openapi.json), the CRM screen at "
        f"http://{args.host}:{args.port}/ui/; Ctrl-C stops it."
    )
    uvicorn.run(api, host=args.host, port=args.port, log_level="warning")
    return 0
