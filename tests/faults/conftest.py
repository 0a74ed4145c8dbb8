"""Fault proxies in front of PostgreSQL and the OpenSearch test server, and a Lambda home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infrastructure import lambda_handlers
from tests.chaos.figures import report_figures
from tests.faults.pipeline import FIGURES
from tests.support.fault_proxy import FaultProxy


@pytest.fixture
def database_proxy() -> Iterator[FaultProxy]:
    """A fault proxy in front of the machine's PostgreSQL."""
    with FaultProxy(("127.0.0.1", 5432)) as proxy:
        yield proxy
        FIGURES.update(proxy.faults)


@pytest.fixture
def search_proxy(osmem_clone: Any) -> Iterator[FaultProxy]:
    """A fault proxy in front of a fresh cluster of the OpenSearch test server."""
    address = urlsplit(osmem_clone.url)
    with FaultProxy((address.hostname or "127.0.0.1", address.port or 80)) as proxy:
        yield proxy
        FIGURES.update(proxy.faults)


@pytest.fixture
def lambda_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh Lambda container: no ``STREAMFOLD_*`` settings but a data directory."""
    for variable in ("STREAMFOLD_EVENT_STORE", "STREAMFOLD_SEARCH", "STREAMFOLD_TABLES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("STREAMFOLD_DATA_DIR", str(tmp_path / "data"))
    lambda_handlers.reset()
    yield tmp_path
    lambda_handlers.reset()


@pytest.fixture(scope="package", autouse=True)
def _fault_figures() -> Iterator[None]:
    yield
    if FIGURES:
        report_figures("faults", dict(sorted(FIGURES.items())))
