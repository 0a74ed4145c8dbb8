"""Pytest fixtures around a moto DynamoDB server; import them into ``tests/conftest.py``.

from tests.support.fixtures import moto_endpoint, reference_tables  # noqa: F401
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.moto_server import (
    KEY_SCHEMAS,
    MotoEndpoint,
    create_reference_tables,
    running_moto_server,
)

__all__ = ["ReferenceTables", "moto_endpoint", "reference_tables"]


@dataclass(frozen=True)
class ReferenceTables:
    """Freshly created, uniquely named reference tables on the moto server."""

    endpoint: MotoEndpoint
    names: dict[str, str]
    stream_arns: dict[str, str]

    @property
    def kind_of_table(self) -> dict[str, str]:
        """Real table name -> kind, e.g. for ``STREAMFOLD_TABLES``."""
        return {name: kind for kind, name in self.names.items()}

    def streamfold_tables_setting(self) -> str:
        """The value of ``STREAMFOLD_TABLES`` that maps these tables to their kinds."""
        return ",".join(f"{kind}={name}" for kind, name in self.names.items())


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[MotoEndpoint]:
    """One moto server for the whole session; ``.url``, ``.dynamodb()``, ``.streams()``."""
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def reference_tables(moto_endpoint: MotoEndpoint) -> ReferenceTables:
    """The four reference tables under names no other test uses (the server is shared)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    names = {kind: f"{prefix}-{kind}" for kind in KEY_SCHEMAS}
    arns = create_reference_tables(moto_endpoint.dynamodb(), names)
    return ReferenceTables(endpoint=moto_endpoint, names=names, stream_arns=arns)
