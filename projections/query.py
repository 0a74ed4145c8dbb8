"""The CRM's query model (first version: full text over every text field, paging, all)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 512


class SearchRequest(BaseModel):
    """What the CRM asks for. An empty ``text`` matches every document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(default="", max_length=MAX_QUERY_LENGTH)
    size: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=10_000)
    every_document: bool = False  # unpaged: every match, for exports and checks


class SearchHit(BaseModel):
    id: str
    score: float | None
    source: dict[str, Any]
    highlight: dict[str, list[str]] = Field(default_factory=dict)


class SearchPage(BaseModel):
    total: int
    hits: list[SearchHit]
