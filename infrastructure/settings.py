"""Configuration from the environment: every variable name lives here."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from domain.kinds import TableKind

EVENT_STORE = "STREAMFOLD_EVENT_STORE"
SEARCH = "STREAMFOLD_SEARCH"
OPENSEARCH_AUTH = "STREAMFOLD_OPENSEARCH_AUTH"
REFRESH = "STREAMFOLD_REFRESH"
TABLES = "STREAMFOLD_TABLES"
INDEX_PREFIX = "STREAMFOLD_INDEX_PREFIX"
DATA_DIR = "STREAMFOLD_DATA_DIR"

DEFAULT_DATA_DIR = ".streamfold"
DEFAULT_INDEX_PREFIX = "streamfold"

# What a bulk write to OpenSearch waits for: ``wait_for`` returns once the documents are
# searchable (on a real cluster, at its next scheduled refresh, 1 s by default); ``false``
# returns once they are durable, and they become searchable within the refresh interval.
# Versions decide what the index keeps either way. See docs/adr/0018-refresh-policy.md.
REFRESH_POLICIES = ("wait_for", "false")
DEFAULT_REFRESH = "false"


class ConfigError(ValueError):
    """A setting a person must correct; the message says how."""


@dataclass(frozen=True)
class SQLiteStore:
    path: Path


@dataclass(frozen=True)
class PostgresStore:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str

    def describe(self) -> str:
        """The URL without its password, safe for logs and errors."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


@dataclass(frozen=True)
class EmbeddedSearch:
    directory: Path


@dataclass(frozen=True)
class OpenSearchTarget:
    url: str = field(repr=False)  # may carry basic-auth credentials
    auth: str = "none"  # none | basic | sigv4
    refresh: str = DEFAULT_REFRESH  # one of REFRESH_POLICIES

    def describe(self) -> str:
        """The URL without credentials, safe for logs and errors."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"


EventStoreTarget = SQLiteStore | PostgresStore
SearchTarget = EmbeddedSearch | OpenSearchTarget


@dataclass(frozen=True)
class Settings:
    event_store: EventStoreTarget
    search: SearchTarget
    tables: Mapping[str, TableKind]
    index_prefix: str

    def kind_of_table(self, table_name: str) -> TableKind | None:
        """The kind a real table holds, or None when its records are not to be read.

        Without ``STREAMFOLD_TABLES`` a table's kind is its name. Once it is set, only the
        tables it names are read: a table called ``users`` that it leaves out is as
        unknown as any other, rather than a second source of users.

        >>> settings = Settings.from_environment({TABLES: "users=prod-users"})
        >>> settings.kind_of_table("prod-users"), settings.kind_of_table("users")
        (<TableKind.USERS: 'users'>, None)
        """
        if self.tables:
            return self.tables.get(table_name)
        try:
            return TableKind(table_name)
        except ValueError:
            return None

    def table_names(self, kinds: Iterable[TableKind]) -> dict[TableKind, str]:
        """The real table each kind is read from (bootstrap, verify, resync scan them)."""
        return table_names(self.tables, kinds)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get(DATA_DIR) or DEFAULT_DATA_DIR)
        return cls(
            event_store=parse_event_store(env.get(EVENT_STORE) or "", data_dir),
            search=parse_search(
                env.get(SEARCH) or "",
                env.get(OPENSEARCH_AUTH) or "",
                data_dir,
                refresh=parse_refresh(env.get(REFRESH) or ""),
            ),
            tables=parse_tables(env.get(TABLES) or ""),
            index_prefix=_index_prefix(env.get(INDEX_PREFIX) or DEFAULT_INDEX_PREFIX),
        )


def table_names(
    tables: Mapping[str, TableKind], kinds: Iterable[TableKind]
) -> dict[TableKind, str]:
    """The real table of each kind: by the mapping, or the kind's own name without one.

    The rule of `Settings.kind_of_table` read the other way: once a mapping is set, a kind
    it leaves out has no table, and reading one named after the kind would be a second
    source the stream never feeds.

    >>> table_names({"prod-users": TableKind.USERS}, [TableKind.USERS])
    {<TableKind.USERS: 'users'>: 'prod-users'}
    """
    kinds = list(kinds)
    if not tables:
        return {kind: kind.value for kind in kinds}
    named = {kind: name for name, kind in tables.items()}
    missing = [kind.value for kind in kinds if kind not in named]
    if missing:
        entries = ",".join(f"{kind}=TABLE" for kind in missing)
        raise ConfigError(f"{TABLES} names no table for {', '.join(missing)}: add {entries} to it")
    return {kind: named[kind] for kind in kinds}


def _file_path(url: str, scheme: str, variable: str, example: str) -> Path:
    # SQLAlchemy's convention: three slashes then a relative path, four for an absolute one.
    rest = url[len(scheme) + len("://") :]
    if not rest.startswith("/") or len(rest) < 2:
        raise ConfigError(f"{variable}={url!r} has no path; use e.g. {example}")
    return Path(unquote(rest[1:]))


def parse_event_store(url: str, data_dir: Path) -> EventStoreTarget:
    if not url:
        return SQLiteStore(data_dir / "events.db")
    if url.startswith("sqlite://"):
        return SQLiteStore(_file_path(url, "sqlite", EVENT_STORE, "sqlite:///events.db"))
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(
                f"{EVENT_STORE} needs a host and a database, "
                "e.g. postgresql://user:password@127.0.0.1:5432/streamfold"
            )
        try:
            port = parts.port or 5432
        except ValueError:
            raise ConfigError(f"{EVENT_STORE} has a port that is not a number") from None
        return PostgresStore(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=parts.path.strip("/"),
        )
    shown = url.split("@")[-1] if "@" in url else url
    raise ConfigError(
        f"{EVENT_STORE}: unsupported URL {shown!r}; use sqlite:///path.db "
        "or postgresql://user:password@host:port/database"
    )


# AWS endpoints (OpenSearch Service domains, Serverless collections, also in the China
# regions) take SigV4-signed requests only: signing is their default.
_AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn")


def parse_refresh(value: str) -> str:
    """The refresh policy named by ``STREAMFOLD_REFRESH``; empty means the default.

    >>> parse_refresh(""), parse_refresh("wait_for")
    ('false', 'wait_for')
    """
    policy = value.strip().lower() or DEFAULT_REFRESH
    if policy not in REFRESH_POLICIES:
        raise ConfigError(f"{REFRESH}={value!r}: use {' or '.join(REFRESH_POLICIES)}")
    return policy


def parse_search(
    url: str, auth: str, data_dir: Path, *, refresh: str = DEFAULT_REFRESH
) -> SearchTarget:
    # The embedded backend has its own rule (a write is searchable on return) and takes
    # no refresh policy.
    if not url:
        return EmbeddedSearch(data_dir / "index")
    if url.startswith("embedded://"):
        return EmbeddedSearch(_file_path(url, "embedded", SEARCH, "embedded:///index-dir"))
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        mode = (auth or ("sigv4" if parts.hostname.endswith(_AWS_DOMAINS) else "none")).lower()
        if mode not in ("none", "basic", "sigv4"):
            raise ConfigError(f"{OPENSEARCH_AUTH}={auth!r}: use none, basic or sigv4")
        return OpenSearchTarget(url=url.rstrip("/"), auth=mode, refresh=refresh)
    raise ConfigError(
        f"{SEARCH}: unsupported value {url.split('@')[-1]!r}; use embedded:///path/to/dir "
        "or an OpenSearch URL such as https://search-domain.eu-west-1.es.amazonaws.com"
    )


def parse_tables(spec: str) -> dict[str, TableKind]:
    """``users=prod-users,images=prod-images`` -> {"prod-users": USERS, ...}.

    Entries are separated by commas, each ``KIND=TABLE_NAME``. A table holds one kind, and
    a kind is read from one table: the stream positions that order an item's changes
    compare only within one table's stream. A spec that breaks either rule, names an
    unknown kind or something that is no DynamoDB table name is refused, so that no
    table's records are silently read as the wrong kind. Repeating an entry as it is
    changes nothing.

    >>> parse_tables("users=prod-users,images=prod-images")["prod-images"]
    <TableKind.IMAGES: 'images'>
    """
    if ";" in spec:
        raise ConfigError(
            f"{TABLES}: separate the entries with ',' not ';', e.g. {spec.replace(';', ',')}"
        )
    mapping: dict[str, TableKind] = {}
    table_of_kind: dict[TableKind, str] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        kind, table_name = _table_entry(entry)
        if mapping.get(table_name, kind) is not kind:
            raise ConfigError(
                f"{TABLES}: table {table_name!r} is mapped to both {mapping[table_name].value}"
                f" and {kind.value}; a table holds one kind, keep the right one"
            )
        if table_of_kind.get(kind, table_name) != table_name:
            raise ConfigError(
                f"{TABLES}: {kind.value} is mapped to both {table_of_kind[kind]!r} and "
                f"{table_name!r}; a kind is read from one table, keep one"
            )
        mapping[table_name] = kind
        table_of_kind[kind] = table_name
    return mapping


# DynamoDB's own rule for a table name.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{3,255}")


def _table_entry(entry: str) -> tuple[TableKind, str]:
    kind_name, sep, table_name = (part.strip() for part in entry.partition("="))
    if not sep or not kind_name or not table_name:
        raise ConfigError(f"{TABLES}: {entry!r} should be KIND=TABLE_NAME, e.g. users=prod-users")
    try:
        kind = TableKind(kind_name)
    except ValueError:
        kinds = ", ".join(k.value for k in TableKind)
        raise ConfigError(f"{TABLES}: {kind_name!r} is not a kind; use one of {kinds}") from None
    if not _TABLE_NAME.fullmatch(table_name):
        hint = "the table's name" + (", not its ARN" if table_name.startswith("arn:") else "")
        raise ConfigError(
            f"{TABLES}: {table_name!r} is not a DynamoDB table name (3 to 255 letters, digits,"
            f" '_', '-', '.'); give {hint}"
        )
    return kind, table_name


def _index_prefix(prefix: str) -> str:
    if not prefix.replace("-", "").replace("_", "").isalnum() or prefix != prefix.lower():
        raise ConfigError(
            f"{INDEX_PREFIX}={prefix!r}: use lowercase letters, digits, '-' and '_' only"
        )
    return prefix


# Observability: Powertools reads these too; streamfold falls back to its own defaults.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_SERVICE_NAME = "streamfold"
DEFAULT_METRICS_NAMESPACE = "Streamfold"

# `streamfold poll`: how many records one GetRecords call asks for, how long to wait when
# every shard is drained, how long to back off after a batch that must be retried, and how
# long one batch may wait for the databases before it is given up and retried.
POLL_BATCH_SIZE = "STREAMFOLD_POLL_BATCH_SIZE"
POLL_IDLE_SECONDS = "STREAMFOLD_POLL_IDLE_SECONDS"
POLL_RETRY_SECONDS = "STREAMFOLD_POLL_RETRY_SECONDS"
POLL_BATCH_SECONDS = "STREAMFOLD_POLL_BATCH_SECONDS"
DEFAULT_POLL_BATCH_SIZE = 1000
DEFAULT_POLL_IDLE_SECONDS = 1.0
DEFAULT_POLL_RETRY_SECONDS = 5.0
DEFAULT_POLL_BATCH_SECONDS = 60.0

# The CRM search HTTP API: how callers authenticate (none, token or apigateway), and the
# bearer token when it is ``token``.
API_AUTH = "STREAMFOLD_API_AUTH"
API_TOKEN = "STREAMFOLD_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
# Its limits: the largest request body in bytes, and requests per second per client
# (on average, in bursts of API_BURST); a rate of 0 turns the rate limit off.
API_MAX_BODY_BYTES = "STREAMFOLD_API_MAX_BODY_BYTES"
API_RATE = "STREAMFOLD_API_RATE"
API_BURST = "STREAMFOLD_API_BURST"

# `streamfold export` and `streamfold sql`: where the Parquet export lives (a directory or
# s3://bucket/prefix; default <data dir>/export).
EXPORT = "STREAMFOLD_EXPORT"
DEFAULT_EXPORT_DIR = "export"

# `streamfold import analytics` and its Lambda: which column of a web-analytics export
# holds each field, e.g. ``userId=user_pseudo_id,date=event_date`` (unnamed fields keep
# their own name).
ANALYTICS_COLUMNS = "STREAMFOLD_ANALYTICS_COLUMNS"


def export_location(environ: Mapping[str, str] | None = None) -> str:
    """Where exports go and SQL reads from, by default."""
    env = os.environ if environ is None else environ
    if env.get(EXPORT):
        return env[EXPORT]
    return str(Path(env.get(DATA_DIR) or DEFAULT_DATA_DIR) / DEFAULT_EXPORT_DIR)
