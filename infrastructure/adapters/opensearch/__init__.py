"""The OpenSearch / Elasticsearch search backend: versioned bulk writes, soft deletes, aliases."""

from infrastructure.adapters.opensearch.index import OpenSearchIndex

__all__ = ["OpenSearchIndex"]
