"""The OpenSearch Dashboards saved objects shipped with streamfold, for any index prefix.

``saved_objects.ndjson`` (next to this module) holds, for the default prefix
``streamfold``: an index pattern per alias (``streamfold-users``, ``streamfold-images``,
time field ``created_at``), the visualisations of the CRM screen's dashboards page (users
by plan and by country, sign-ups and uploads over time, users by lifetime value, the most
liked images, two totals) and one dashboard holding them. The aliases already filter out
soft-deleted documents (ADR 0006), so no visualisation needs to.

For another prefix every id, reference and index-pattern title is renamed, so that the
objects of two deployments can live side by side in one Dashboards.

>>> [o["id"] for o in saved_objects("crm") if o["type"] == "index-pattern"]
['crm-users', 'crm-images']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infrastructure.settings import DEFAULT_INDEX_PREFIX

SAVED_OBJECTS_FILE = Path(__file__).with_name("saved_objects.ndjson")
DASHBOARD_ID = f"{DEFAULT_INDEX_PREFIX}-crm"


def saved_objects(index_prefix: str = DEFAULT_INDEX_PREFIX) -> list[dict[str, Any]]:
    """Every saved object, named for ``index_prefix``."""
    lines = SAVED_OBJECTS_FILE.read_text(encoding="utf-8").splitlines()
    objects = [json.loads(line) for line in lines if line.strip()]
    if index_prefix == DEFAULT_INDEX_PREFIX:
        return objects
    return [_renamed(saved, index_prefix) for saved in objects]


def as_ndjson(objects: list[dict[str, Any]]) -> bytes:
    """The objects as the import API takes them: one JSON document per line."""
    lines = (json.dumps(saved, ensure_ascii=False, separators=(",", ":")) for saved in objects)
    return ("\n".join(lines) + "\n").encode()


def _renamed(saved: dict[str, Any], prefix: str) -> dict[str, Any]:
    def rename(name: str) -> str:
        shipped = f"{DEFAULT_INDEX_PREFIX}-"
        return f"{prefix}-{name[len(shipped) :]}" if name.startswith(shipped) else name

    attributes = dict(saved["attributes"])
    if saved["type"] == "index-pattern":
        attributes["title"] = rename(attributes["title"])
    else:
        attributes["title"] = f"{attributes['title']} ({prefix})"
    references = [{**ref, "id": rename(ref["id"])} for ref in saved.get("references", [])]
    return {**saved, "id": rename(saved["id"]), "attributes": attributes, "references": references}
