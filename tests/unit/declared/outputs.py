"""Everything derived from the field declarations, as JSON-ready data, for the golden file."""

from __future__ import annotations

from typing import Any

from infrastructure.adapters.embedded.schema import schema_fields
from infrastructure.adapters.eventstore.schema import PROJECTION_TABLES
from infrastructure.adapters.eventstore.state_tables import STATE_TABLES
from infrastructure.adapters.export.athena import columns
from infrastructure.adapters.export.schema import TABLES
from infrastructure.adapters.opensearch.mappings import index_body, kind_mapping
from infrastructure.services.table_documents import TABLE_FIELDS
from projections.documents import DocumentKind
from projections.query import query_fields
from projections.versions import REVISIONS


def derived_outputs() -> dict[str, Any]:
    kinds = list(DocumentKind)
    return {
        "opensearch": {k.value: index_body(k) for k in kinds},
        "opensearch_fields": {
            k.value: {
                path: [f.source, f.searched, f.exact] for path, f in kind_mapping(k).fields.items()
            }
            for k in kinds
        },
        "tantivy": {k.value: list(schema_fields(k)) for k in kinds},
        "allowlist": {
            k.value: [
                [f.path, f.type.value, f.boost, f.prefix, f.sortable, f.multi_valued]
                for f in query_fields(k).fields
            ]
            for k in kinds
        },
        "state_ddl": list(PROJECTION_TABLES),
        "state_columns": {table.value: list(t.columns) for table, t in STATE_TABLES.items()},
        "parquet": {t.name: [[f.name, str(f.type), f.nullable] for f in t.schema] for t in TABLES},
        "athena": {t.name: [list(c) for c in columns(t)] for t in TABLES},
        "table_fields": {k.value: list(TABLE_FIELDS[k]) for k in kinds},
        "revisions": {
            k.value: [[r.version, r.summary, list(r.added), list(r.removed), r.refold] for r in rs]
            for k, rs in REVISIONS.items()
        },
    }
