"""SQL over a Parquet export with DuckDB (``streamfold sql``).

>>> from infrastructure.sqlquery.workspace import SqlWorkspace
"""
