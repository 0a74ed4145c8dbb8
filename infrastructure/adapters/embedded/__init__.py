"""The embedded search backend: tantivy indexes on local disk, one per document kind."""

from infrastructure.adapters.embedded.index import EmbeddedSearchIndex

__all__ = ["EmbeddedSearchIndex"]
