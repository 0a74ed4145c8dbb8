"""The reference domain: source items, their aggregates and domain events.

Pure Python plus the ``eventsourcing`` domain model; no I/O library is imported here.
"""
