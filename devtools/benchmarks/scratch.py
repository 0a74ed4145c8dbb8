"""Throwaway resources for benchmarks: a scratch PostgreSQL database, a search server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from infrastructure.settings import ConfigError, PostgresStore, parse_event_store


@contextmanager
def scratch_database(admin_url: str) -> Iterator[PostgresStore]:
    """A fresh database on the server of ``admin_url``, dropped afterwards."""
    admin = parse_event_store(admin_url, Path())
    if not isinstance(admin, PostgresStore):
        raise ConfigError("--postgres needs a postgresql:// URL")
    name = f"streamfold_bench_{uuid.uuid4().hex[:8]}"
    options = {"host": admin.host, "port": admin.port, "user": admin.user,
               "password": admin.password, "dbname": admin.dbname, "autocommit": True}  # fmt: skip
    with psycopg.connect(**options) as connection:  # type: ignore[arg-type]
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PostgresStore(admin.host, admin.port, admin.user, admin.password, name)
    finally:
        with psycopg.connect(**options) as connection:  # type: ignore[arg-type]
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def search_server(url: str | None) -> Iterator[str]:
    """The given OpenSearch URL, or the OpenSearch-compatible test server when installed."""
    if url:
        yield url
        return
    try:
        from osmem_server import OsmemServer
    except ImportError:
        raise ConfigError(
            "no --opensearch URL given and the OpenSearch-compatible test server is not "
            "installed; pass --opensearch http://host:9200 or install the dev extra"
        ) from None
    with OsmemServer.start() as server, server.clone() as clone:
        yield clone.url
