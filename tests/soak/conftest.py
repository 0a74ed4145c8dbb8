"""The soak runs only when asked for: ``make soak`` (``pytest tests/soak -m slow``)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or "").replace("not slow", ""):
        return
    skip = pytest.mark.skip(reason="slow: run it with `make soak`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
