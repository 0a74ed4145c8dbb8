"""Athena's view of an export: column types and ``CREATE EXTERNAL TABLE`` statements.

The same definitions are in the deployment template as Glue tables; both use partition
projection, so Athena computes the partitions from the path layout the export writes
(``event_date=YYYY-MM-DD``, ``bucket=NN``) and no crawler or ``MSCK REPAIR`` is needed.

>>> print(create_table(EVENTS, "s3://analytics-bucket/streamfold"))  # doctest: +ELLIPSIS
CREATE EXTERNAL TABLE events (
  position bigint,
  ...
"""

from __future__ import annotations

import pyarrow as pa

from infrastructure.adapters.export.schema import BUCKETS, EVENT_DATE, EVENTS, TABLES, TableLayout

FIRST_EVENT_DATE = "2020-01-01"


def hive_type(data_type: pa.DataType) -> str:
    """The Hive/Athena type of an exported Arrow type."""
    if pa.types.is_string(data_type):
        return "string"
    if pa.types.is_int64(data_type):
        return "bigint"
    if pa.types.is_int32(data_type):
        return "int"
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_timestamp(data_type):
        return "timestamp"
    if pa.types.is_date32(data_type):
        return "date"
    if pa.types.is_list(data_type):
        return f"array<{hive_type(data_type.value_type)}>"
    if pa.types.is_struct(data_type):
        fields = ",".join(f"{f.name}:{hive_type(f.type)}" for f in data_type)
        return f"struct<{fields}>"
    raise TypeError(f"no Athena type for {data_type}")


def columns(table: TableLayout) -> list[tuple[str, str]]:
    """(name, Athena type) of each column in the files, in order."""
    return [(field.name, hive_type(field.type)) for field in table.schema]


def partition_column(table: TableLayout) -> tuple[str, str]:
    """The partition column as Athena declares it (dates as ``yyyy-MM-dd`` text)."""
    return (table.partition, "string" if table.partition == EVENT_DATE else "int")


def projection(table: TableLayout, location: str) -> dict[str, str]:
    """Table properties that let Athena enumerate the partitions from the layout alone."""
    name = table.partition
    properties = {"projection.enabled": "true", "classification": "parquet"}
    if table is EVENTS:
        properties |= {
            f"projection.{name}.type": "date",
            f"projection.{name}.format": "yyyy-MM-dd",
            f"projection.{name}.range": f"{FIRST_EVENT_DATE},NOW",
            f"projection.{name}.interval": "1",
            f"projection.{name}.interval.unit": "DAYS",
        }
    else:
        properties |= {
            f"projection.{name}.type": "integer",
            f"projection.{name}.range": f"0,{BUCKETS - 1}",
            f"projection.{name}.digits": "2",
        }
    properties["storage.location.template"] = (
        f"{table_location(table, location)}{name}=${{{name}}}/"
    )
    return properties


def table_location(table: TableLayout, location: str) -> str:
    return f"{location.rstrip('/')}/{table.name}/"


def create_table(table: TableLayout, location: str) -> str:
    """The ``CREATE EXTERNAL TABLE`` statement of one exported table."""
    described = ",\n".join(f"  `{name}` {kind}" for name, kind in columns(table))
    partition, partition_type = partition_column(table)
    properties = ",\n".join(f"  '{k}' = '{v}'" for k, v in projection(table, location).items())
    return (
        f"CREATE EXTERNAL TABLE {table.name} (\n{described}\n)\n"
        f"PARTITIONED BY (`{partition}` {partition_type})\n"
        f"STORED AS PARQUET\n"
        f"LOCATION '{table_location(table, location)}'\n"
        f"TBLPROPERTIES (\n{properties}\n);"
    )


def create_tables(location: str) -> str:
    """Every table of an export at ``location`` (``s3://bucket/prefix``)."""
    return "\n\n".join(create_table(table, location) for table in TABLES)
