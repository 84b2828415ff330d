"""A real browser: Debian's chromium, driven by Playwright, uploads a call and reads the report."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.config import Settings
from analyzer.service import ServiceConfig, create_app
from tests.service.conftest import engine

CHROMIUM = Path("/usr/bin/chromium")
FIXTURE = Path(__file__).parent / "data" / "brightline.vtt"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The service under uvicorn in a background thread, on a free loopback port."""
    import uvicorn

    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'browser.sqlite3'}", poll_seconds=0.05)
    app = create_app(Settings(), config, analyzer=engine())
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (bash .ci/services installs Debian's chromium when apt is available)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield b
        b.close()


def test_upload_and_read_the_report(server: str, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1360, "height": 1000})  # type: ignore[attr-defined]
    remote: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(server) or req.url.startswith("data:")
            else remote.append(req.url))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(server + "/")
    page.set_input_files("#file", str(FIXTURE))
    page.fill("input[name=seller]", "Jordan Ellis")
    page.fill("input[name=account]", "Brightline Logistics")
    page.click("button[type=submit]")
    # A single upload goes straight to its report when the analysis is done.
    page.wait_for_url(f"{server}/analyses/*", timeout=15_000)
    banner = page.wait_for_selector("#verdict", timeout=15_000)
    assert banner.get_attribute("data-verdict") == "walk_away"
    assert "Walk away" in banner.inner_text()
    mark = page.locator("mark.sev-high", has_text="finder's fee paid to me directly")
    assert mark.count() == 1
    assert mark.get_attribute("title") == "ethics (high)"
    # Clicking the flag's quote scrolls to the highlighted sentence.
    page.locator("a.quote", has_text="finder's fee").first.click()
    page.wait_for_selector("mark.sev-high.flash", timeout=5_000)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000

    page.goto(server + "/analyses?verdict=walk_away")
    assert page.locator("table.list tbody tr").count() == 1
    assert "Brightline Logistics" in page.inner_text("table.list")
    # The manager's pipeline review, reached from the navigation: the account and its disqualifying evidence.
    page.click("nav >> text=Pipeline")
    page.wait_for_url(f"{server}/pipeline", timeout=5_000)
    row = page.locator("#pipeline-accounts tbody tr").first
    assert "Brightline Logistics" in row.inner_text() and "finder" in row.inner_text()
    assert "Jordan Ellis" in page.inner_text("#pipeline-reps")
    assert remote == []
    assert errors == []
