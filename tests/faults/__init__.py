"""Faults in the components: PostgreSQL and OpenSearch behind a fault-injecting proxy."""
