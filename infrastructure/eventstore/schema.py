"""Tables of the projection and the dead-letter store, beside the library's events table."""

from __future__ import annotations

PROJECTION_TABLES = [
    "CREATE TABLE IF NOT EXISTS streamfold_user_state ("
    " aggregate_id TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, email TEXT NOT NULL,"
    " name TEXT NOT NULL, plan TEXT NOT NULL, country TEXT NOT NULL, created_at TEXT NOT NULL,"
    " marketing_opt_in BOOLEAN NOT NULL, tags TEXT, bio TEXT)",
    "CREATE TABLE IF NOT EXISTS streamfold_image_state ("
    " aggregate_id TEXT PRIMARY KEY, image_id TEXT NOT NULL UNIQUE, owner_id TEXT NOT NULL,"
    " title TEXT NOT NULL, description TEXT, tags TEXT, image_url TEXT NOT NULL,"
    " created_at TEXT NOT NULL, uploaded_instant TEXT NOT NULL, status TEXT NOT NULL,"
    " size_bytes BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS streamfold_image_state_owner"
    " ON streamfold_image_state (owner_id, uploaded_instant)",
    "CREATE TABLE IF NOT EXISTS streamfold_like_state ("
    " aggregate_id TEXT PRIMARY KEY, image_id TEXT NOT NULL, user_id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS streamfold_like_state_image ON streamfold_like_state (image_id)",
    "CREATE INDEX IF NOT EXISTS streamfold_like_state_user ON streamfold_like_state (user_id)",
    "CREATE TABLE IF NOT EXISTS streamfold_payment_state ("
    " aggregate_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, payment_id TEXT NOT NULL,"
    " amount_cents BIGINT NOT NULL, status TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS streamfold_payment_state_user"
    " ON streamfold_payment_state (user_id)",
    "CREATE TABLE IF NOT EXISTS streamfold_analytics_state ("
    " aggregate_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, visited_on TEXT NOT NULL,"
    " source TEXT NOT NULL, medium TEXT, sessions BIGINT NOT NULL, pageviews BIGINT NOT NULL)",
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

# Which aggregates ever fed which documents (projections/feeds.py), for a document's
# history. It only grows and follows from the events alone, so every generation shares it.
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
