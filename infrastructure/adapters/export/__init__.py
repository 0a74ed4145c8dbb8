"""The event log and the current documents as Parquet files, for DuckDB and Athena.

>>> from infrastructure.adapters.export.exporter import ParquetExport
>>> from infrastructure.adapters.export.destination import open_destination
"""
