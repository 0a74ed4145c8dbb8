"""The CRM search API behind API Gateway (HTTP API, payload format 2.0), through Mangum.

>>> handle = api_gateway_handler(lambda: streamfold.search, os.environ)
>>> handle(event, context)["statusCode"]
200
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mangum import Mangum

from infrastructure.entrypoints.http.app import ServiceProvider, create_app
from infrastructure.entrypoints.http.auth import authenticator_from_environment
from infrastructure.entrypoints.http.history import HistoryProvider

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def api_gateway_handler(
    service: ServiceProvider, environ: Mapping[str, str], history: HistoryProvider | None = None
) -> LambdaHandler:
    """A Lambda handler serving the API; behind API Gateway, the authorizer guards by default."""
    authenticate = authenticator_from_environment(environ, default="apigateway")
    app = create_app(service, authenticate, history=history)
    adapter = Mangum(app, lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(adapter(event, context))

    return handle
