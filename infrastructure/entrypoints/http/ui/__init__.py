"""The CRM's browser screen: search and dashboards pages served beside the API at ``/ui/``.

The pages are plain HTML, CSS and ES modules shipped inside the package, with the chart
library vendored next to them: no build step on anyone's machine, and nothing is fetched
from outside the app, so the screen works inside a VPC without internet. They call the
public API only (``/v1/{kind}/search``, ``/count``, ``/documents/{id}``) with the same
authentication as any other caller, so the screen can do nothing the API does not allow;
in token mode the page asks for the token and keeps it in the tab's ``sessionStorage``.

The interactive API reference (``/docs``) is a page of the screen too: Swagger UI's files
come from the ``fastapi-offline`` package (which ships them for this purpose) and are
served at ``/ui/vendor/swagger-ui/`` rather than loaded from a CDN, and the page starts it
from a script file instead of FastAPI's inline script.

Every file is served with a strict Content-Security-Policy (scripts and styles from the
app only, no inline code, requests to the app only): even a value the page failed to
escape could not run as a script. Files are gzip-compressed and revalidated by ETag.

>>> app = create_app(lambda: streamfold.search, NoAuthentication())  # mounts the screen
>>> TestClient(app).get("/", follow_redirects=False).headers["location"]
'ui/'
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIRECTORY = Path(__file__).parent / "static"
SWAGGER_UI_DIRECTORY = Path(str(files("fastapi_offline") / "static"))
MOUNT_PATH = "/ui"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    # Revalidate every time (a 304 when unchanged): an upgraded app never runs stale code.
    "cache-control": "no-cache",
}


class ScreenFiles(StaticFiles):
    """The static files of the screen, each with the security and caching headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount_screen(app: FastAPI) -> None:
    """Serve the screen at ``/ui/``, send ``/`` there and ``/docs`` to the API reference.

    The app must be created with ``docs_url=None``: FastAPI's own page loads a CDN.
    """
    swagger = ScreenFiles(directory=SWAGGER_UI_DIRECTORY)
    # Before the screen's mount, which would otherwise claim the path.
    app.mount(f"{MOUNT_PATH}/vendor/swagger-ui", _compressed(swagger), name="swagger-ui")
    screen = ScreenFiles(directory=STATIC_DIRECTORY, html=True)
    app.mount(MOUNT_PATH, _compressed(screen), name="ui")

    @app.get("/docs", include_in_schema=False)
    def api_reference() -> RedirectResponse:
        return RedirectResponse("ui/api-docs.html")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        # Relative, so that it also lands right behind a path prefix (an API Gateway stage).
        return RedirectResponse("ui/")


def _compressed(files: StaticFiles) -> GZipMiddleware:
    return GZipMiddleware(files, minimum_size=1024)
