"""The OpenSearch / Elasticsearch search backend: versioned bulk writes, soft deletes, aliases."""

from infrastructure.opensearch.index import OpenSearchIndex

__all__ = ["OpenSearchIndex"]
