"""Web analytics beside the users: export files read, mapped to domain events, imported.

>>> from infrastructure.analytics.importer import AnalyticsImport
>>> from infrastructure.analytics.columns import ColumnMapping
"""
