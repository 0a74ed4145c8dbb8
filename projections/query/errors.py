"""A request the CRM must correct: every problem with where it is and what to do.

>>> error = QueryError([QueryProblem("filter.field", "unknown field 'colour'")])
>>> str(error)
"filter.field: unknown field 'colour'"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class QueryProblem:
    location: str  # a dotted path into the request, e.g. ``filter.filters.0.field``
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class QueryError(ValueError):
    """The request is invalid; ``problems`` says where and why."""

    def __init__(self, problems: list[QueryProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems

    @classmethod
    def single(cls, location: str, message: str) -> QueryError:
        return cls([QueryProblem(location, message)])

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> QueryError:
        """The problems pydantic found, in the same terms."""
        return cls.from_errors(error.errors(include_url=False))

    @classmethod
    def from_errors(cls, errors: Sequence[Mapping[str, Any]]) -> QueryError:
        """Pydantic's error records (``loc``, ``msg``), e.g. of a web framework's validation."""
        return cls([QueryProblem(_location(tuple(e["loc"])), str(e["msg"])) for e in errors])


def _location(parts: tuple[int | str, ...]) -> str:
    # Pydantic names the branch of a tagged union it tried (``filter.term.value``); the
    # request itself has no such level, so it is left out.
    tags = {"term", "terms", "range", "exists", "and", "or", "not"}
    tags |= {"date_histogram", "stats"}
    kept = [str(part) for part in parts if part not in tags or part == parts[0]]
    return ".".join(kept)
