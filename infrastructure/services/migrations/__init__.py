"""Migrations: changing the shape of the documents or their index without downtime.

- `infrastructure.adapters.index_definitions`: what an index holds, per backend.
- `plan`: the wanted versions against the live ones, with a verdict per kind.
- `lease`: at most one migration per kind at a time, in the event-store database.
- `migrate`: applying a plan (in place, or blue/green through a rebuild) and rolling back.
"""
