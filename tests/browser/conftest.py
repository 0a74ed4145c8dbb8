"""Browser tests of the CRM screen: headless Chromium (Debian's) driven by Playwright.

Each test gets a fresh browser context (empty sessionStorage) and leaves a screenshot of
its last state in ``.streamfold/artifacts/screenshots/``. A script error on the page
fails the test. Without ``/usr/bin/chromium`` the tests are skipped, unless
``STREAMFOLD_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.screen import Server, build_dataset, start_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".streamfold" / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


def require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("STREAMFOLD_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's synchronous API keeps an asyncio loop
    # running in this thread while it is open, which other tests' event loops run into.
    require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo dataset plus the test users, built once."""
    require_chromium()  # before spending time on data no test could use
    data_dir = tmp_path_factory.mktemp("screen-data")
    build_dataset(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def server(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``streamfold serve`` over the dataset, shared by the tests that only read."""
    running = start_server(dataset, tmp_path_factory.mktemp("serve") / "serve.log")
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{module}--{request.node.name}")
    opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()
    assert not errors, f"script errors on the page: {errors}"
