"""Which column of a web-analytics export holds which field.

streamfold reads six fields: ``userId``, ``date``, ``sessions``, ``pageviews``, ``source``
and ``medium``. Real exports name them otherwise (Google Analytics 4 through BigQuery:
``user_id``, ``event_date``, ``session_source``, ...), so each field can be given the
column that holds it; a field not named keeps its own name as the column.

>>> mapping = ColumnMapping.parse("userId=user_id,date=event_date")
>>> mapping.column("userId"), mapping.column("sessions")
('user_id', 'sessions')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from infrastructure.settings import ANALYTICS_COLUMNS, ConfigError

FIELDS = ("userId", "date", "sessions", "pageviews", "source", "medium")
REQUIRED = ("userId", "date", "sessions", "pageviews", "source")


@dataclass(frozen=True)
class ColumnMapping:
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> column in the file

    @classmethod
    def parse(cls, spec: str) -> ColumnMapping:
        """``FIELD=COLUMN,...``; raises ConfigError naming what is wrong."""
        columns: dict[str, str] = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, column = entry.partition("=")
            if not sep or not column.strip() or name.strip() not in FIELDS:
                raise ConfigError(
                    f"{ANALYTICS_COLUMNS}: {entry!r} should be FIELD=COLUMN with FIELD one of "
                    f"{', '.join(FIELDS)}"
                )
            columns[name.strip()] = column.strip()
        return cls(columns)

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    def missing(self, header: set[str]) -> list[str]:
        """The required fields whose column the header lacks, as ``field (column)``."""
        return [
            name if self.column(name) == name else f"{name} (column {self.column(name)!r})"
            for name in REQUIRED
            if self.column(name) not in header
        ]
