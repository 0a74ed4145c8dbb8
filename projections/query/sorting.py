"""Sort keys: relevance by default, or allowlisted fields; the document id breaks ties.

Documents without a value for a sort field come last, whatever the order, like OpenSearch's
``missing: _last``. The id as the final key makes the order total, so pages follow each
other without gaps or repeats.

>>> SortKey.parse("created_at:desc")
SortKey(field='created_at', order='desc')
>>> SortKey.parse("-like_count").order
'desc'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SORT_KEYS = 3

Order = Literal["asc", "desc"]


class SortKey(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(min_length=1, max_length=100)
    order: Order = "asc"

    @classmethod
    def parse(cls, spec: str) -> SortKey:
        """``field``, ``field:asc``, ``field:desc`` or ``-field`` (descending)."""
        if spec.startswith("-"):
            return cls(field=spec[1:], order="desc")
        field, _, order = spec.partition(":")
        return cls(field=field, order=order or "asc")  # type: ignore[arg-type]

    @property
    def descending(self) -> bool:
        return self.order == "desc"
