"""The bounds every query respects, in a module light enough for any adapter to import."""

MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 512
MAX_OFFSET = 10_000
