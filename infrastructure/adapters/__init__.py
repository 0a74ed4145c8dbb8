"""Adapters: the real components behind the ports.

The event store and projection store (SQLite, PostgreSQL), the stream parsers, DynamoDB,
the embedded tantivy index, OpenSearch, the index definitions each backend keeps, files
and S3 for the export, DuckDB for SQL, and OpenSearch Dashboards.
"""
