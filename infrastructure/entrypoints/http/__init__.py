"""The CRM search HTTP API (FastAPI): the app, its authentication and its Lambda adapter."""

from infrastructure.entrypoints.http.app import create_app
from infrastructure.entrypoints.http.auth import authenticator_from_environment

__all__ = ["authenticator_from_environment", "create_app"]
