"""OpenSearch Dashboards: the saved objects of the CRM's dashboards, and their installer.

>>> install_saved_objects("https://dashboards.internal:5601", saved_objects(), os.environ)
ImportResult(imported=11, problems=[])
"""

from infrastructure.adapters.dashboards.install import (
    DashboardsUnavailable,
    ImportRefused,
    ImportResult,
    install_saved_objects,
)
from infrastructure.adapters.dashboards.saved_objects import as_ndjson, saved_objects

__all__ = [
    "DashboardsUnavailable",
    "ImportRefused",
    "ImportResult",
    "as_ndjson",
    "install_saved_objects",
    "saved_objects",
]
