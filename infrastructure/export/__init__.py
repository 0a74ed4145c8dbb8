"""The event log and the current documents as Parquet files, for DuckDB and Athena.

>>> from infrastructure.export.exporter import ParquetExport
>>> from infrastructure.export.destination import open_destination
"""
