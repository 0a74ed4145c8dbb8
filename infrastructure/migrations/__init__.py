"""Migrations: changing the shape of the documents or their index without downtime.

- `definitions`: what an index holds (fields, settings), compared backend-neutrally.
- `opensearch_definitions`, `embedded_definitions`: each backend's side of that.
- `backends`: reading the live index's definition and version, changing it in place.
- `plan`: the wanted versions against the live ones, with a verdict per kind.
- `lease`: at most one migration per kind at a time, in the event-store database.
- `migrate`: applying a plan (in place, or blue/green through a rebuild) and rolling back.
"""
