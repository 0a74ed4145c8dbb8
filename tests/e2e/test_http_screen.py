"""The CRM screen beside the API: one document by id, the static files and their headers."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.entrypoints.http import create_app
from infrastructure.entrypoints.http.auth import BearerToken, NoAuthentication
from infrastructure.entrypoints.http.ui import CONTENT_SECURITY_POLICY, STATIC_DIRECTORY
from projections.search import SearchService
from tests.contract.query_contract import DATASET

TOKEN = "a-long-enough-test-token"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    index = EmbeddedSearchIndex(tmp_path_factory.mktemp("screen") / "index")
    index.write(DATASET)
    yield SearchService(index)
    index.close()


@pytest.fixture(scope="module")
def client(service: SearchService) -> TestClient:
    return TestClient(create_app(lambda: service, NoAuthentication()))


def test_one_document_is_fetched_by_id(client: TestClient) -> None:
    response = client.get("/v1/users/documents/u-ada")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "u-ada"
    assert body["source"]["user_id"] == "u-ada"
    assert body["source"]["name"]


def test_an_unknown_or_deleted_document_is_a_404(client: TestClient) -> None:
    unknown = client.get("/v1/users/documents/u-nobody")
    deleted = client.get("/v1/images/documents/i-00")  # written, then deleted in the dataset

    assert (unknown.status_code, deleted.status_code) == (404, 404)
    assert unknown.json()["error"]["code"] == "not_found"


def test_documents_are_guarded_like_every_endpoint(service: SearchService) -> None:
    client = TestClient(create_app(lambda: service, BearerToken(TOKEN)))

    missing = client.get("/v1/users/documents/u-ada")
    right = client.get("/v1/users/documents/u-ada", headers={"authorization": f"Bearer {TOKEN}"})
    screen = client.get("/ui/")

    assert (missing.status_code, right.status_code) == (401, 200)
    assert screen.status_code == 200  # the page holds no data; what it shows comes from the API


def test_the_root_sends_the_browser_to_the_screen(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"] == "ui/"


@pytest.mark.parametrize("page", ["/ui/", "/ui/dashboards.html"])
def test_the_pages_are_served_compressed_with_a_strict_content_security_policy(
    client: TestClient, page: str
) -> None:
    response = client.get(page, headers={"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-encoding"] == "gzip"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-cache"


def test_every_asset_the_pages_name_is_shipped_and_local(client: TestClient) -> None:
    for page in ("index.html", "dashboards.html", "api-docs.html"):
        html = (STATIC_DIRECTORY / page).read_text()
        assets = re.findall(r'(?:src|href)="([^"#]+)"', html)

        for asset in assets:
            assert not re.match(r"^(?:[a-z]+:)?//", asset), f"{page} loads {asset} from outside"
            if asset.startswith("data:") or asset.endswith("/") or asset == "./":
                continue
            assert client.get(f"/ui/{asset}").status_code == 200, asset


def test_scripts_import_only_local_modules_and_never_write_html() -> None:
    for script in sorted((STATIC_DIRECTORY / "js").glob("*.js")):
        code = script.read_text()

        imports = re.findall(r'from "([^"]+)"', code)
        assert all(name.startswith("./") for name in imports), (script.name, imports)
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", code), (
            script.name
        )


def test_the_api_reference_is_a_page_of_the_screen_with_local_swagger_ui(
    client: TestClient,
) -> None:
    docs = client.get("/docs", follow_redirects=False)
    page = client.get("/ui/api-docs.html")
    bundle = client.get("/ui/vendor/swagger-ui/swagger-ui-bundle.js")

    assert docs.status_code == 307
    assert docs.headers["location"] == "ui/api-docs.html"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert bundle.status_code == 200
    assert bundle.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "SwaggerUIBundle" in bundle.text
    assert client.get("/redoc").status_code == 404  # it could only load from a CDN


def test_the_vendored_chart_library_ships_with_its_licence() -> None:
    vendor = STATIC_DIRECTORY / "vendor"

    assert (vendor / "chart.umd.min.js").read_text().startswith("/*!\n * Chart.js v4.")
    assert "MIT License" in (vendor / "chart.js-LICENSE.md").read_text()


def test_the_openapi_document_lists_the_document_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert "/v1/{kind}/documents/{doc_id}" in paths
    assert not any(path.startswith("/ui") for path in paths)


def test_every_screen_file_is_declared_as_package_data() -> None:
    """A wheel carries only the files the package-data patterns match."""
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["infrastructure.entrypoints.http.ui"]
    package = STATIC_DIRECTORY.parent

    matched = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}

    shipped = {path for path in STATIC_DIRECTORY.rglob("*") if path.is_file()}
    assert shipped and shipped <= matched
