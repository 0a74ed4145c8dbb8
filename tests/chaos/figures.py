"""The figures a reliability test measured, printed on one line for the report.

Run with ``-s`` to see them: ``pytest tests/chaos tests/faults -s | grep FIGURES``.

>>> report_figures("chaos", {"batches_delivered": 120, "lost": 0})
FIGURES chaos {"batches_delivered": 120, "lost": 0}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def report_figures(name: str, figures: Mapping[str, Any]) -> None:
    print(f"FIGURES {name} {json.dumps(figures, sort_keys=False)}")
