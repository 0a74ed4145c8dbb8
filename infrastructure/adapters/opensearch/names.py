"""The names of everything the backend creates in the cluster, derived from the index prefix.

Each document kind has a stable alias that queries and writes go through, physical indices
named after the alias plus a schema generation, and an index template matching them all.

>>> names = IndexNames("crm")
>>> names.alias(DocumentKind.USERS), names.physical(DocumentKind.USERS)
('crm-users', 'crm-users-v1')
>>> names.pattern(DocumentKind.IMAGES)
'crm-images-*'
"""

from __future__ import annotations

from dataclasses import dataclass

from infrastructure.adapters.opensearch.mappings import SCHEMA_VERSION
from projections.documents import DocumentKind


@dataclass(frozen=True, slots=True)
class IndexNames:
    prefix: str

    def alias(self, kind: DocumentKind) -> str:
        """The stable name of a kind, e.g. ``streamfold-users``."""
        return f"{self.prefix}-{kind.value}"

    def physical(self, kind: DocumentKind, generation: int = SCHEMA_VERSION) -> str:
        """A physical index of the kind, e.g. ``streamfold-users-v1``."""
        return f"{self.alias(kind)}-v{generation}"

    def pattern(self, kind: DocumentKind) -> str:
        """The index pattern the kind's template applies to."""
        return f"{self.alias(kind)}-*"

    def template(self, kind: DocumentKind) -> str:
        """The name of the kind's index template (templates have their own namespace)."""
        return self.alias(kind)
