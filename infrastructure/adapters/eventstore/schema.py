"""Tables of the projection and the dead-letter store, beside the library's events table.

The state tables' columns come from the state rows (`state_tables`); their indexes are here.
"""

from __future__ import annotations

from infrastructure.adapters.eventstore.state_tables import STATE_TABLES
from projections.state import StateTable

PROJECTION_TABLES = [
    STATE_TABLES[StateTable.USERS].create,
    STATE_TABLES[StateTable.IMAGES].create,
    "CREATE INDEX IF NOT EXISTS streamfold_image_state_owner"
    " ON streamfold_image_state (owner_id, uploaded_instant)",
    STATE_TABLES[StateTable.LIKES].create,
    "CREATE INDEX IF NOT EXISTS streamfold_like_state_image ON streamfold_like_state (image_id)",
    "CREATE INDEX IF NOT EXISTS streamfold_like_state_user ON streamfold_like_state (user_id)",
    STATE_TABLES[StateTable.PAYMENTS].create,
    "CREATE INDEX IF NOT EXISTS streamfold_payment_state_user"
    " ON streamfold_payment_state (user_id)",
    STATE_TABLES[StateTable.ANALYTICS].create,
    "CREATE INDEX IF NOT EXISTS streamfold_analytics_state_user"
    " ON streamfold_analytics_state (user_id, visited_on, source)",
    "CREATE TABLE IF NOT EXISTS streamfold_documents ("
    " kind TEXT NOT NULL, doc_id TEXT NOT NULL, version BIGINT NOT NULL, body TEXT,"
    " fingerprint TEXT NOT NULL,"
    " synced_version BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (kind, doc_id))",
    "CREATE INDEX IF NOT EXISTS streamfold_documents_pending"
    " ON streamfold_documents (version) WHERE version > synced_version",
    "CREATE TABLE IF NOT EXISTS streamfold_tracking ("
    " projection TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS streamfold_projection_locks ("
    " name TEXT PRIMARY KEY, taken BIGINT NOT NULL DEFAULT 0)",
]

# Documents a fold changed and left to a later transaction to render (a command's groups
# folded in its second process, projections/projector.py): the next session that renders,
# whoever runs it, renders them and deletes their rows. ``since`` is the position of the
# first event of the first fold that left the document (the status's lag counts from it).
# One table per generation, as those above.
UNRENDERED_TABLES = [
    "CREATE TABLE IF NOT EXISTS streamfold_unrendered ("
    " kind TEXT NOT NULL, doc_id TEXT NOT NULL, since BIGINT NOT NULL,"
    " PRIMARY KEY (kind, doc_id))",
]

# Which aggregates ever fed which documents (projections/feeds.py), for a document's
# history. It only grows and follows from the events alone, so every generation shares it.
# A settle adds about two rows per event (the pipeline benchmark: 107,839 for 48,729
# events), and nothing reads it by anything but its key: on SQLite it is created without
# a rowid (`dialects.for_sqlite`), one B-tree instead of a table and its key's index.
DOCUMENT_FEED_TABLES = [
    "CREATE TABLE IF NOT EXISTS streamfold_document_feeds ("
    " kind TEXT NOT NULL, doc_id TEXT NOT NULL, aggregate_id TEXT NOT NULL,"
    " PRIMARY KEY (kind, doc_id, aggregate_id))",
]

DEAD_LETTER_TABLES = [
    "CREATE TABLE IF NOT EXISTS streamfold_dead_letters ("
    " letter_id TEXT PRIMARY KEY, source TEXT NOT NULL, table_name TEXT, reason TEXT NOT NULL,"
    " raw TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', attempts BIGINT NOT NULL DEFAULT 1,"
    " first_seen TEXT NOT NULL, last_seen TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS streamfold_dead_letters_status"
    " ON streamfold_dead_letters (status, table_name)",
]
