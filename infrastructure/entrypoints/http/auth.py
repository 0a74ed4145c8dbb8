"""Who may call the CRM search API: nobody checked, a bearer token, or API Gateway's word.

- ``none``: every request passes (local use: ``streamfold serve`` listens on 127.0.0.1);
- ``token``: ``Authorization: Bearer <STREAMFOLD_API_TOKEN>``, the token compared in
  constant time, the scheme name in any case (``bearer`` too: RFC 7235 makes it
  case-insensitive);
- ``apigateway``: API Gateway has already run an authorizer (JWT, Lambda or IAM) and put
  its result in the event's ``requestContext.authorizer``; a request without one is refused.

>>> authenticate = authenticator_from_environment({"STREAMFOLD_API_AUTH": "token",
...                                                "STREAMFOLD_API_TOKEN": "s3cret"})
>>> authenticate(headers={"authorization": "Bearer s3cret"}, event=None)
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from infrastructure.settings import API_AUTH, API_TOKEN, ConfigError

MODES = ("none", "token", "apigateway")


class NotAuthenticated(Exception):
    """The request carries no acceptable credentials."""


class Authenticator(Protocol):
    def __call__(self, *, headers: Mapping[str, str], event: Mapping[str, Any] | None) -> None:
        """Return if the caller may query; raise `NotAuthenticated` otherwise."""


class NoAuthentication:
    def __call__(self, *, headers: Mapping[str, str], event: Mapping[str, Any] | None) -> None:
        return None


class BearerToken:
    openapi_scheme: ClassVar[dict[str, str]] = {"type": "http", "scheme": "bearer"}

    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    def __call__(self, *, headers: Mapping[str, str], event: Mapping[str, Any] | None) -> None:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        # Both checks run whatever the scheme, so the time taken tells nothing of the token.
        right_scheme = scheme.lower() == "bearer"
        right_token = hmac.compare_digest(given.encode(), self._expected)
        if not (right_scheme and right_token):
            raise NotAuthenticated(
                "the API token is missing or wrong: send Authorization: Bearer <token>"
            )


class ApiGatewayAuthorizer:
    def __call__(self, *, headers: Mapping[str, str], event: Mapping[str, Any] | None) -> None:
        context = (event or {}).get("requestContext") or {}
        if not context.get("authorizer"):
            raise NotAuthenticated("the request did not pass an API Gateway authorizer")


def authenticator_from_environment(
    environ: Mapping[str, str], default: str = "none"
) -> Authenticator:
    """The authenticator ``STREAMFOLD_API_AUTH`` names (``default`` when it is unset)."""
    mode = (environ.get(API_AUTH) or default).strip().lower()
    if mode == "none":
        return NoAuthentication()
    if mode == "apigateway":
        return ApiGatewayAuthorizer()
    if mode == "token":
        token = environ.get(API_TOKEN) or ""
        if len(token) < 16:
            raise ConfigError(f"{API_AUTH}=token needs {API_TOKEN} of at least 16 characters")
        return BearerToken(token)
    raise ConfigError(f"{API_AUTH}={mode!r}: use {', '.join(MODES)}")
