"""``streamfold dashboards``: the CRM's dashboards in OpenSearch Dashboards.

    streamfold dashboards install https://dashboards.internal:5601
    streamfold dashboards install https://search-crm-abc.eu-west-1.es.amazonaws.com/_dashboards
    streamfold dashboards export > streamfold-dashboards.ndjson   # to import by hand

Authentication is the search backend's (``STREAMFOLD_OPENSEARCH_AUTH`` and friends, or
``--auth``); the index patterns name the aliases of ``STREAMFOLD_INDEX_PREFIX``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from infrastructure.entrypoints.cli.output import console, errors, print_json
from infrastructure.settings import INDEX_PREFIX, Settings


def add_dashboards_commands(commands: Any) -> None:
    dashboards = commands.add_parser(
        "dashboards", help="install the CRM dashboards into OpenSearch Dashboards"
    )
    which = dashboards.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = which.add_parser(
        "install", help="import the index patterns, visualisations and dashboard"
    )
    install.add_argument("url", help="the OpenSearch Dashboards URL (not the search cluster's)")
    install.add_argument(
        "--auth",
        choices=["none", "basic", "sigv4"],
        help="as STREAMFOLD_OPENSEARCH_AUTH (the default); sigv4 for *.amazonaws.com hosts",
    )
    install.add_argument("--tenant", help="the security plugin's tenant, e.g. global or private")
    install.add_argument("--index-prefix", help=f"default: ${INDEX_PREFIX}, else streamfold")
    install.add_argument(
        "--keep-existing", action="store_true", help="leave objects that already exist unchanged"
    )
    install.add_argument("--json", action="store_true")
    install.set_defaults(run=run_install, needs_app=False)

    export = which.add_parser("export", help="print the saved objects as NDJSON")
    export.add_argument("--index-prefix", help=f"default: ${INDEX_PREFIX}, else streamfold")
    export.set_defaults(run=run_export, needs_app=False)


def index_prefix(chosen: str | None) -> str:
    """The prefix given, else the configured one; checked as the settings check it."""
    prefix = chosen or os.environ.get(INDEX_PREFIX) or ""
    return Settings.from_environment({INDEX_PREFIX: prefix} if prefix else {}).index_prefix


def run_install(_: Any, args: argparse.Namespace) -> int:
    from infrastructure.adapters.dashboards import (
        ImportRefused,
        install_saved_objects,
        saved_objects,
    )

    objects = saved_objects(index_prefix(args.index_prefix))
    try:
        result = install_saved_objects(
            args.url,
            objects,
            os.environ,
            auth=args.auth,
            tenant=args.tenant,
            overwrite=not args.keep_existing,
        )
    except ImportRefused as refused:
        errors.print(f"streamfold: {refused}", markup=False, soft_wrap=True)
        return 1
    if args.json:
        print_json(
            {"imported": result.imported, "objects": len(objects), "problems": result.problems}
        )
    else:
        dashboard = next(o for o in objects if o["type"] == "dashboard")
        console.print(
            f"Imported {result.imported} of {len(objects)} saved objects; open the dashboard "
            f"{dashboard['attributes']['title']!r} in OpenSearch Dashboards.",
            markup=False,
        )
        for problem in result.problems:
            errors.print(f"not imported: {problem}", markup=False, soft_wrap=True)
    return 0 if result.complete else 1


def run_export(_: Any, args: argparse.Namespace) -> int:
    from infrastructure.adapters.dashboards import as_ndjson, saved_objects

    sys.stdout.buffer.write(as_ndjson(saved_objects(index_prefix(args.index_prefix))))
    sys.stdout.flush()
    return 0
