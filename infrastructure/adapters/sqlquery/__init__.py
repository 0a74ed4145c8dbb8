"""SQL over a Parquet export with DuckDB (``streamfold sql``).

>>> from infrastructure.adapters.sqlquery.workspace import SqlWorkspace
"""
