"""The event store: the eventsourcing library on SQLite (embedded) or PostgreSQL."""
