"""The opensearch-py client for a configured target: address, authentication and TLS.

Authentication follows ``target.auth``:

- ``none``: no credentials (user and password in the URL still mean basic auth);
- ``basic``: user and password from the URL (``https://user:password@host``) or from
  ``STREAMFOLD_OPENSEARCH_USER`` / ``STREAMFOLD_OPENSEARCH_PASSWORD``;
- ``sigv4``: requests signed with boto3's default credential chain, for the region in the
  host name (else ``AWS_REGION``), as service ``es`` (``aoss`` for OpenSearch Serverless).

Certificates are verified for https unless ``STREAMFOLD_OPENSEARCH_VERIFY_CERTS=false``.
Credentials are handed to the client only: `Cluster.url`, every message and every repr
show the address without them. The client never retries by itself; the index does, within
its time budget.

>>> cluster = connect(OpenSearchTarget("https://admin:s3cret@localhost:9200", "basic"))
>>> cluster.url
'https://localhost:9200'
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from opensearchpy import AWSV4SignerAuth, OpenSearch, RequestsHttpConnection

from infrastructure.adapters.opensearch.environment import (
    AWS_DEFAULT_REGION,
    AWS_REGION,
    OPENSEARCH_PASSWORD,
    OPENSEARCH_USER,
    OPENSEARCH_VERIFY_CERTS,
)
from infrastructure.adapters.opensearch.retry import REQUEST_TIMEOUT_SECONDS
from infrastructure.settings import OPENSEARCH_AUTH, SEARCH, ConfigError, OpenSearchTarget

log = logging.getLogger(__name__)

# The client's trace logger writes each request as a curl command, body and all (the
# documents), at INFO, to any handler a logging setup attaches to it. Unless someone has
# set its level, only debug logging may show them.
_TRACE = logging.getLogger("opensearchpy.trace")
if _TRACE.level == logging.NOTSET:
    _TRACE.setLevel(logging.WARNING)

# search-<domain>-<id>.<region>.es.amazonaws.com, <id>.<region>.aoss.amazonaws.com (and .cn)
_AWS_HOST = re.compile(
    r"\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?P<service>es|aoss)\.amazonaws\.com(?:\.cn)?$"
)
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the cluster listens; holds no credentials."""

    scheme: str
    host: str
    port: int
    path: str  # a prefix before every API path, e.g. behind a reverse proxy

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class Cluster:
    client: OpenSearch
    url: str  # without credentials: safe for logs and messages


def connect(target: OpenSearchTarget, environ: Mapping[str, str] | None = None) -> Cluster:
    """A client for the target; raises ConfigError for settings a person must correct."""
    env = os.environ if environ is None else environ
    endpoint, user, password = parse_url(target.url)
    verify = verify_certificates(env)
    if endpoint.scheme == "https" and not verify:
        log.warning(
            "TLS certificate verification is off for OpenSearch at %s (%s=false)",
            endpoint.url,
            OPENSEARCH_VERIFY_CERTS,
        )
    client = OpenSearch(
        hosts=[{"host": endpoint.host, "port": endpoint.port, "url_prefix": endpoint.path}],
        http_auth=http_auth(target.auth, endpoint, user, password, env),
        use_ssl=endpoint.scheme == "https",
        verify_certs=verify,
        ssl_show_warn=verify,
        connection_class=RequestsHttpConnection,
        timeout=REQUEST_TIMEOUT_SECONDS,
        max_retries=0,
        retry_on_timeout=False,
    )
    return Cluster(client, endpoint.url)


def parse_url(url: str) -> tuple[Endpoint, str | None, str | None]:
    """The endpoint, and the user and password written in the URL (if any)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{SEARCH}: {_without_userinfo(url)!r} is not an OpenSearch URL; "
            "use e.g. https://search-domain.eu-west-1.es.amazonaws.com"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError(
            f"{SEARCH}: the port of {_without_userinfo(url)!r} is not a number"
        ) from None
    endpoint = Endpoint(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return endpoint, user, password


def http_auth(
    mode: str, endpoint: Endpoint, user: str | None, password: str | None, env: Mapping[str, str]
) -> Any:
    """What the client authenticates with: None, a (user, password) pair, or a SigV4 signer."""
    if mode == "sigv4":
        return sigv4_auth(endpoint.host, env)
    if mode == "basic" or user is not None:
        return basic_credentials(user, password, env)
    return None


def basic_credentials(
    user: str | None, password: str | None, env: Mapping[str, str]
) -> tuple[str, str]:
    user = user or env.get(OPENSEARCH_USER) or None
    password = password if password is not None else env.get(OPENSEARCH_PASSWORD)
    if not user or password is None:
        raise ConfigError(
            f"{OPENSEARCH_AUTH}=basic needs a user and a password: write them in {SEARCH} "
            f"(https://user:password@host) or set {OPENSEARCH_USER} and {OPENSEARCH_PASSWORD}"
        )
    return user, password


def sigv4_auth(host: str, env: Mapping[str, str]) -> AWSV4SignerAuth:
    """A SigV4 signer using boto3's default credential chain (refreshed as they expire)."""
    region = signing_region(host, env)
    if not region:
        raise ConfigError(
            f"{OPENSEARCH_AUTH}=sigv4: the region of {host} is not in its name; set {AWS_REGION}"
        )
    credentials = boto3.Session(region_name=region).get_credentials()
    if credentials is None:
        raise ConfigError(
            f"{OPENSEARCH_AUTH}=sigv4: no AWS credentials found (environment, shared config "
            "or profile, container or instance role); give this process an IAM identity"
        )
    return AWSV4SignerAuth(credentials, region, signing_service(host))


def signing_service(host: str) -> str:
    """``aoss`` for OpenSearch Serverless collections, ``es`` for domains."""
    return "aoss" if host.endswith(".aoss.amazonaws.com") else "es"


def signing_region(host: str, env: Mapping[str, str]) -> str | None:
    """The region in an AWS host name, else the configured region."""
    named = _AWS_HOST.search(host)
    if named:
        return named.group("region")
    return env.get(AWS_REGION) or env.get(AWS_DEFAULT_REGION) or boto3.Session().region_name


def verify_certificates(env: Mapping[str, str]) -> bool:
    value = (env.get(OPENSEARCH_VERIFY_CERTS) or "true").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{OPENSEARCH_VERIFY_CERTS}={value!r}: use true or false")


def _without_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"
