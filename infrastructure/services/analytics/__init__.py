"""Web analytics beside the users: export files read, mapped to domain events, imported.

>>> from infrastructure.services.analytics.importer import AnalyticsImport
>>> from infrastructure.services.analytics.columns import ColumnMapping
"""
