"""Import the saved objects into OpenSearch Dashboards through its saved-objects API.

    POST <dashboards URL>/api/saved_objects/_import?overwrite=true
    (multipart/form-data, one NDJSON file; header ``osd-xsrf: true``)

Authentication is the search backend's (see infrastructure/adapters/opensearch/client.py):
``STREAMFOLD_OPENSEARCH_AUTH`` ``none``, ``basic`` (user and password in the URL or in
``STREAMFOLD_OPENSEARCH_USER`` / ``_PASSWORD``) or ``sigv4`` (boto3's credentials, signed
for ``es``: on Amazon OpenSearch Service, Dashboards is ``https://<domain endpoint>/_dashboards``);
certificates are verified unless ``STREAMFOLD_OPENSEARCH_VERIFY_CERTS=false``. With the
security plugin's multi-tenancy, ``tenant`` picks the tenant (``global``, ``private``, ...).

>>> result = install_saved_objects("https://dashboards.internal:5601", saved_objects("crm"), env)
>>> result.imported
11
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from domain.errors import TransientFailure
from infrastructure.adapters.dashboards.saved_objects import as_ndjson
from infrastructure.adapters.opensearch.client import http_auth, parse_url, verify_certificates
from infrastructure.settings import OPENSEARCH_AUTH, ConfigError

IMPORT_PATH = "/api/saved_objects/_import"
TIMEOUT_SECONDS = 30
AUTH_MODES = ("none", "basic", "sigv4")


class DashboardsUnavailable(TransientFailure):
    """Dashboards cannot be reached or answered a server error; the same call may succeed later."""


class ImportRefused(RuntimeError):
    """Dashboards answered the import with an error of the request itself."""


@dataclass(frozen=True)
class ImportResult:
    imported: int
    problems: list[str] = field(default_factory=list)  # one line per object not imported

    @property
    def complete(self) -> bool:
        return not self.problems


def auth_mode(url: str, chosen: str | None, environ: Mapping[str, str]) -> str:
    """``chosen``, else ``STREAMFOLD_OPENSEARCH_AUTH``, else sigv4 for AWS hosts, else none."""
    mode = (chosen or environ.get(OPENSEARCH_AUTH) or "").strip().lower()
    if not mode:
        host = urlsplit(url).hostname or ""
        mode = "sigv4" if host.endswith(".amazonaws.com") else "none"
    if mode not in AUTH_MODES:
        raise ConfigError(f"{OPENSEARCH_AUTH}={mode!r}: use none, basic or sigv4")
    return mode


def install_saved_objects(
    url: str,
    objects: list[dict[str, Any]],
    environ: Mapping[str, str],
    auth: str | None = None,
    tenant: str | None = None,
    overwrite: bool = True,
) -> ImportResult:
    """Import ``objects`` into the Dashboards at ``url``; raises for what a person must fix."""
    import requests  # only this command needs it: keep the CLI's start-up light

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{url.split('@')[-1]!r} is not an OpenSearch Dashboards URL; "
            "use e.g. https://dashboards.internal:5601 or https://<domain endpoint>/_dashboards"
        )
    endpoint, user, password = parse_url(url)
    headers = {"osd-xsrf": "true", "kbn-xsrf": "true", "accept": "application/json"}
    if tenant:
        headers["securitytenant"] = tenant
    try:
        response = requests.post(
            f"{endpoint.url}{IMPORT_PATH}",
            params={"overwrite": "true" if overwrite else "false"},
            headers=headers,
            files={"file": ("streamfold.ndjson", as_ndjson(objects), "application/ndjson")},
            auth=http_auth(auth_mode(url, auth, environ), endpoint, user, password, environ),
            verify=verify_certificates(environ),
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise DashboardsUnavailable(
            f"OpenSearch Dashboards at {endpoint.url} cannot be reached ({type(error).__name__}); "
            "check the URL and that this network can reach it"
        ) from None
    return _result(endpoint.url, response.status_code, _json(response))


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _result(where: str, status: int, body: Any) -> ImportResult:
    if status in (401, 403):
        raise ConfigError(
            f"OpenSearch Dashboards at {where} refused the credentials ({status}); "
            f"check {OPENSEARCH_AUTH} and the user's permissions"
        )
    if status == 404:
        raise ConfigError(
            f"no saved-objects API at {where}{IMPORT_PATH} (404): give the URL Dashboards "
            "answers on, e.g. https://dashboards.internal:5601 or https://<domain>/_dashboards"
        )
    if status >= 500 or status == 429:
        raise DashboardsUnavailable(
            f"OpenSearch Dashboards at {where} answered {status}; retry later"
        )
    if status != 200 or not isinstance(body, dict):
        message = body.get("message") if isinstance(body, dict) else None
        raise ImportRefused(
            f"OpenSearch Dashboards refused the import ({status}): {message or 'no reason given'}"
        )
    return ImportResult(
        imported=int(body.get("successCount", 0)),
        problems=[_problem(error) for error in body.get("errors") or []],
    )


def _problem(error: Mapping[str, Any]) -> str:
    reason = error.get("error") or {}
    kind = reason.get("type", "unknown")
    detail = ""
    if kind == "missing_references":
        missing = ", ".join(f"{r.get('type')} {r.get('id')}" for r in reason.get("references", []))
        detail = f": {missing}"
    return f"{error.get('type')} {error.get('id')} ({error.get('title', '')}): {kind}{detail}"
