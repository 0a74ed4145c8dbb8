"""``streamfold search`` and ``streamfold count``."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from infrastructure.cli.output import console, print_json, print_table
from infrastructure.cli.parser import UsageError
from infrastructure.composition import Streamfold
from projections.documents import DocumentKind
from projections.query import SearchRequest

_COLUMNS = {
    DocumentKind.USERS: ["name", "email", "plan", "country", "image_count", "lifetime_value_cents"],
    DocumentKind.IMAGES: ["title", "status", "like_count", "owner_id", "created_at"],
}


def add_query_commands(commands: Any) -> None:
    search = commands.add_parser("search", help="full-text search over users or images")
    search.add_argument("kind", choices=[k.value for k in DocumentKind])
    search.add_argument("text", nargs="?", default="", help='words to look for ("" for all)')
    search.add_argument("--size", type=int, default=10, help="hits per page (at most 100)")
    search.add_argument("--offset", type=int, default=0, help="hits to skip")
    search.add_argument("--all", action="store_true", help="every match, unpaged")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(run=run_search)

    count = commands.add_parser("count", help="count users or images matching a query")
    count.add_argument("kind", choices=[k.value for k in DocumentKind])
    count.add_argument("text", nargs="?", default="")
    count.add_argument("--json", action="store_true", help="print JSON")
    count.set_defaults(run=run_count)


def _request(args: argparse.Namespace, **extra: Any) -> SearchRequest:
    try:
        return SearchRequest(text=args.text, **extra)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise UsageError(f"--{field}: {problem['msg']}") from None


def run_search(app: Streamfold, args: argparse.Namespace) -> int:
    request = _request(args, size=args.size, offset=args.offset, every_document=args.all)
    page = app.search.search(args.kind, request)
    if args.json:
        print_json(page.model_dump())
        return 0
    kind = DocumentKind(args.kind)
    columns = _COLUMNS[kind]
    rows = [[hit.id, *(hit.source.get(c) for c in columns)] for hit in page.hits]
    print_table(f"{page.total} {kind.value} match {args.text!r}", ["id", *columns], rows)
    return 0


def run_count(app: Streamfold, args: argparse.Namespace) -> int:
    total = app.search.count(args.kind, _request(args))
    if args.json:
        print_json({"count": total})
    else:
        console.print(f"{total} {args.kind}")
    return 0
