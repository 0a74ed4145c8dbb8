"""``streamfold search`` and ``streamfold count``: the query model on the command line.

    streamfold search images "photgraphy montains" --filter status=active \\
        --filter like_count>=10 --facet status --facet created_at:month \\
        --sort created_at:desc --highlight
    streamfold count users --filter plan=pro --filter "created_at>=2024-01-01" --json

Filters are ``FIELD=VALUE`` (``=A,B`` any of, ``=*`` has a value), ``FIELD!=VALUE`` and
``FIELD>=VALUE`` (also ``>``, ``<=``, ``<``); several are combined with AND, and ``--where``
takes any filter as JSON (with ``or`` and ``not``). See docs/query-api.md.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.markup import escape
from rich.text import Text

from infrastructure.entrypoints.cli.output import (
    console,
    plural,
    print_json,
    print_table,
    to_a_terminal,
    utc_instant,
)
from infrastructure.entrypoints.cli.parser import UsageError
from projections.documents import DocumentKind
from projections.query import (
    MAX_PAGE_SIZE,
    BucketFacet,
    Filter,
    FilterType,
    Highlight,
    QueryError,
    SearchPage,
    SearchRequest,
    SortKey,
    StatsResult,
    WordRule,
    parse_facet,
    parse_filter,
)
from projections.query.filters import every

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold

_COLUMNS = {
    DocumentKind.USERS: ["name", "email", "plan", "country", "image_count", "lifetime_value_cents"],
    DocumentKind.IMAGES: ["title", "status", "like_count", "owner_id", "created_at"],
}
_FLAGS = {"facets": "--facet", "filter": "--filter", "sort": "--sort", "text": "TEXT"}
_MARKED = re.compile(r"\x00(.*?)\x01", re.DOTALL)
# ``tags==x`` would otherwise read as tags equal to "=x"
_OPERATOR_RUN = re.compile(r"^\s*(?P<field>[\w.]+)\s*(?P<op>[!=<>]+)\s*(?P<value>.*)$", re.DOTALL)
# Which rule answered, so a page of partial matches is not read as exact ones.
_MATCHED_CAPTIONS = {
    WordRule.ALL_WORDS: "matched all words",
    WordRule.SOME_WORDS: "no result had every word; showing results with some of them",
}
_OPERATORS = ("!=", ">=", "<=", "=", ">", "<")  # the longer first


def add_query_commands(commands: Any) -> None:
    search = commands.add_parser("search", help="full-text search over users or images")
    _add_matching_options(search)
    search.add_argument(
        "--sort",
        action="append",
        default=[],
        metavar="FIELD[:asc|desc]",
        help="order by a field (repeatable; the id breaks ties)",
    )
    search.add_argument(
        "--facet",
        action="append",
        default=[],
        metavar="SPEC",
        help="FIELD, FIELD:SIZE, FIELD:day|week|month|year, FIELD:stats, "
        "FIELD:0-10,10- (repeatable)",
    )
    search.add_argument(
        "--size", type=int, default=10, help=f"hits per page (at most {MAX_PAGE_SIZE})"
    )
    search.add_argument("--offset", type=int, default=0, help="hits to skip")
    search.add_argument(
        "--search-after", metavar="CURSOR", help="the next_cursor of the previous page"
    )
    search.add_argument("--highlight", action="store_true", help="show the matched fragments")
    search.add_argument(
        "--tags",
        default="<em>,</em>",
        metavar="PRE,POST",
        help="the highlight tags (default <em>,</em>)",
    )
    search.add_argument("--all", action="store_true", help="every match, unpaged")
    search.set_defaults(run=run_search)

    count = commands.add_parser("count", help="count users or images matching a query")
    _add_matching_options(count)
    count.set_defaults(run=run_count)


def _add_matching_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=[k.value for k in DocumentKind])
    parser.add_argument("text", nargs="?", default="", help='words to look for ("" for all)')
    parser.add_argument("--fields", help="search only these text fields (comma-separated)")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="EXPR",
        help="FIELD=VALUE, FIELD!=VALUE, FIELD>=VALUE, ... (repeatable, AND)",
    )
    parser.add_argument("--where", metavar="JSON", help="a filter as JSON (with or / not)")
    parser.add_argument("--prefix", action="store_true", help="the last word may be unfinished")
    parser.add_argument("--no-fuzzy", dest="fuzzy", action="store_false", help="no typo tolerance")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run_search(app: Streamfold, args: argparse.Namespace) -> int:
    if args.all and not args.json:
        raise UsageError(
            "--all prints every document: add --json to hand them to a script, or page "
            "through them with --size N (and --search-after)"
        )
    pre, _, post = args.tags.partition(",")
    request = _request(
        args,
        sort=[_sort_key(spec) for spec in args.sort],
        facets={spec: _facet(args.kind, spec) for spec in args.facet},
        size=args.size,
        offset=args.offset,
        search_after=args.search_after,
        highlight=Highlight(pre_tag=pre, post_tag=post),
        every_document=args.all,
    )
    page = _answer(lambda: app.search.search(args.kind, request))
    if args.json:
        print_json(page.model_dump(mode="json"))
    else:
        _print_page(DocumentKind(args.kind), args, page, request)
    return 0


def run_count(app: Streamfold, args: argparse.Namespace) -> int:
    total = _answer(lambda: app.search.count(args.kind, _request(args)))
    if args.json:
        print_json({"count": total})
    else:
        console.print(f"{total} {args.kind}")
    return 0


def _request(args: argparse.Namespace, **extra: Any) -> SearchRequest:
    def build() -> SearchRequest:
        filters: list[FilterType] = [_filter(expression) for expression in args.filter]
        if args.where:
            where = _json(args.where)
            filters.append(_answer(lambda: Filter.validate_python(where), flag="--where"))
        fields = [f.strip() for f in args.fields.split(",")] if args.fields else []
        return SearchRequest(
            text=args.text,
            fields=fields,
            fuzzy=args.fuzzy,
            prefix=args.prefix,
            filter=every(filters),
            **extra,
        )

    return _answer(build)


def _sort_key(spec: str) -> SortKey:
    return _answer(lambda: SortKey.parse(spec), f"--sort {spec!r}")


def _facet(kind: str, spec: str) -> Any:
    return _answer(lambda: parse_facet(kind, spec), f"--facet {spec!r}")


def _filter(expression: str) -> FilterType:
    found = _OPERATOR_RUN.match(expression)
    if found and found["op"] not in _OPERATORS:
        meant = next((op for op in _OPERATORS if found["op"].startswith(op)), "=")
        raise UsageError(
            f"--filter {expression!r}: one operator only, e.g. {found['field']}{meant}"
            f"{found['value']} (a value that starts with {found['op'][-1]!r} goes in --where)"
        )
    return _answer(lambda: parse_filter(expression))


def _answer(call: Any, flag: str | None = None) -> Any:
    """The call's result; a request the user must correct becomes one usage line.

    ``flag`` names the option whose value was being read, when the problem's location
    is inside that value (a pydantic path into ``--where``'s JSON names no flag).
    """
    try:
        return call()
    except ValidationError as error:
        raise UsageError(_described(QueryError.from_validation_error(error), flag)) from None
    except QueryError as error:
        raise UsageError(_described(error, flag)) from None


def _described(error: QueryError, flag: str | None = None) -> str:
    problems = []
    for problem in error.problems:
        if flag is not None:
            # the first part of a location in --where's JSON is the filter's type
            inside = ".".join(problem.location.split(".")[1:] if flag == "--where" else [])
            where = f"{flag} ({inside})" if inside else flag
            quoted = flag.partition(" ")[2]  # the value, which the message may repeat
            problems.append(f"{where}: {problem.message.removeprefix(f'{quoted}: ')}")
            continue
        top, _, rest = problem.location.partition(".")
        flag_of_top = _FLAGS.get(top, f"--{top.replace('_', '-')}") if top else ""
        where = f"{flag_of_top} ({rest})" if rest and top != "facets" else flag_of_top
        problems.append(f"{where}: {problem.message}" if where else problem.message)
    return "; ".join(problems)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"--where: not JSON ({error.msg} at column {error.colno})") from None


def _print_page(
    kind: DocumentKind, args: argparse.Namespace, page: SearchPage, request: SearchRequest
) -> None:
    columns = _COLUMNS[kind]
    header = ["id", *columns] + (["score"] if request.ranked else [])
    rows = []
    for hit in page.hits:
        row = [hit.id, *(utc_instant(hit.source.get(c)) for c in columns)]
        if request.ranked:
            row.append(f"{hit.score or 0:.2f}")
        if args.highlight:
            row.append(_fragments(hit.highlight, request))
        rows.append(row)
    if args.highlight:
        header.append("matched")
    noun = kind.value.removesuffix("s")
    verb = "matches" if page.total == 1 else "match"
    print_table(f"{plural(page.total, noun)} {verb} {args.text!r}", header, rows)
    if page.matched is not None:
        mark = "" if to_a_terminal() else "# "  # a pipe reads rows; the rest is a comment
        console.print(f"{mark}{_MATCHED_CAPTIONS[page.matched]}", soft_wrap=True)
    for name, facet in page.facets.items():
        if isinstance(facet, BucketFacet):
            rows = _buckets(facet)
            print_table(f"facet {name}", ["value", "count"], rows)
        elif isinstance(facet, StatsResult):
            console.print(
                f"facet {name}: count {facet.count}, min {facet.min}, max {facet.max}, "
                f"avg {facet.avg}, sum {facet.sum}"
            )
    if page.next_cursor:
        mark = "" if to_a_terminal() else "# "  # a pipe reads rows; the rest is a comment
        console.print(f"{mark}next page: --search-after {page.next_cursor}", soft_wrap=True)


def _buckets(facet: BucketFacet) -> list[list[Any]]:
    rows: list[list[Any]] = [[utc_instant(b.key), b.count] for b in facet.buckets]
    if facet.other_count:
        rows.append(["(other)", facet.other_count])
    if facet.unknown_owner_count:
        rows.append(["(unknown owner)", facet.unknown_owner_count])
    return rows


def _fragments(highlight: dict[str, list[str]], request: SearchRequest) -> Text | str:
    """The fragments with the matched words marked, and everything else taken literally.

    A terminal shows the words in bold; a pipe or a file has no bold, so there they are
    wrapped in ``**`` (as Markdown writes strong emphasis), and the fields are separated by
    `` | `` instead of lines, to keep each hit on one row.
    """
    tags = request.highlight or Highlight()
    terminal = to_a_terminal()
    lines = []
    for field, fragments in highlight.items():
        text = " … ".join(fragments).replace(tags.pre_tag, "\x00").replace(tags.post_tag, "\x01")
        if terminal:
            marked = _MARKED.sub(lambda m: f"[bold]{m.group(1)}[/bold]", escape(text))
        else:
            marked = _MARKED.sub(lambda m: f"**{m.group(1)}**", text)
        lines.append(f"{escape(field) if terminal else field}: {marked}")
    if terminal:
        return Text.from_markup("\n".join(lines))
    return " | ".join(lines)
