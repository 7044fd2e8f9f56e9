"""The web pages in a real headless Chromium (Playwright), against the server started for real
with uvicorn on 127.0.0.1: the manufacturer signs in, creates a project, pastes the reference
scenario with its supplier table, sees the editor flag a broken edit inline, saves, runs and
reads the report, edits again and compares the two versions; then the lab's engineer finds the
demo project's supplier data withheld in the report. Screenshots of each step go to
``out/serve/``."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from rackforge.serve import demo
from rackforge.serve.app import ServerConfig, create_app
from tests.serve.test_ui import REFERENCE, SUPPLIERS, broken_racks

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs the playwright package "
    "(pip install -e '.[dev]')")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="the browser test needs a chromium executable on PATH "
    "(Debian: apt-get install chromium)")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUT = Path(__file__).parents[2] / "out" / "serve"
RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, dict[str, str]]]:
    """The app served by uvicorn in a thread on a free port, the demo seeded: its base URL
    and the demo users' tokens."""
    app = create_app(ServerConfig(db_url=f"sqlite:///{tmp_path / 'serve.db'}",
                                  cache_dir=str(tmp_path / "cache"), workers=1,
                                  processes=False))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    with app.state.sessions() as session:
        tokens = demo.seed(session)
        session.commit()
    yield f"http://127.0.0.1:{port}", tokens
    server.should_exit = True
    thread.join(15)
    sock.close()


@pytest.fixture
def page(server):
    """A page of a fresh headless Chromium; fails the test on a script error in our pages."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
        assert errors == []


def paste(page, selector: str, text: str) -> None:
    """Put `text` in a text area as a paste does: the value at once, then one input event.
    Playwright's fill() on the 26 kB scenario now and then outlasted its 15 s timeout in
    headless Chromium (it edits the text area's content in place)."""
    page.eval_on_selector(selector, "(area, text) => { area.focus(); area.value = text; "
                          "area.dispatchEvent(new Event('input', {bubbles: true})); }", text)


def shot(page, name: str, full_page: bool = True) -> None:
    """A screenshot of the step under ``out/serve/``."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)


def sign_in(page, base: str, token: str) -> None:
    """Paste the token in the sign-in form; land on the projects."""
    page.goto(base + "/")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/projects")


def wait_for_run(page) -> None:
    """Watch the run page until the run is done: the bar full, the report link shown."""
    expect = sync_api.expect
    expect(page.locator("#status")).to_have_text("done", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#count")).to_have_text(re.compile(r"^(\d+) of \1 stages$"))
    expect(page.locator("#report")).to_be_visible()


def test_write_run_and_read_a_scenario_then_see_supplier_data_withheld(server, page):
    base, tokens = server
    expect = sync_api.expect
    sign_in(page, base, tokens["mfg-engineer"])
    expect(page.locator("#projects")).to_contain_text(demo.PROJECT)
    shot(page, "01-projects")

    page.fill("#name", "browser NVL72 rack")
    page.click("text=Create")
    expect(page.locator("h1")).to_have_text("browser NVL72 rack")
    shot(page, "02-new-project")
    page.click("#edit")

    check = page.locator("#check")
    page.set_input_files("#upload", str(SUPPLIERS))
    paste(page, "#scenario", REFERENCE)
    expect(check).to_have_class(re.compile(r"\bok\b"))
    expect(check).to_have_text("The scenario loads.")
    shot(page, "03-editor-loads")

    paste(page, "#scenario", broken_racks(REFERENCE))
    expect(check).to_have_class(re.compile(r"\bbad\b"))
    expect(check).to_contain_text("scenario.yaml:racks: Input should be a valid list")
    racks_line = REFERENCE.splitlines().index("racks:") + 1
    expect(page.locator("#bad-line")).to_have_text(str(racks_line))
    page.click("#goto-line")        # selects the line in the text area and scrolls to it
    selected = page.eval_on_selector(
        "#scenario", "a => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert selected == "racks: 3"
    expect(page.locator("#bad-line")).to_be_in_viewport()
    shot(page, "04-editor-inline-error")

    paste(page, "#scenario", REFERENCE)
    expect(check).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#bad-line")).to_have_count(0)
    page.fill("#message", "the reference scenario, pasted in the browser")
    page.click("#save")
    expect(page.locator("#versions")).to_contain_text("the reference scenario, pasted")
    shot(page, "05-saved")

    page.click("#run-latest")
    wait_for_run(page)
    shot(page, "06-run-done")
    page.click("#report")
    expect(page).to_have_title(re.compile("rackforge report"))
    # the report is a few MB of HTML and charts: give the browser time to parse it on a busy CI
    expect(page.locator("section#source")).to_contain_text("Sourcing plan over the horizon",
                                                           timeout=RUN_TIMEOUT_MS)
    shot(page, "07-report", full_page=False)

    page.go_back()
    page.click("text=browser NVL72 rack")
    page.click("#edit")
    expect(check).to_have_class(re.compile(r"\bok\b"))   # the saved text, checked on load
    paste(page, "#scenario", REFERENCE.replace("supply_temp_c: 40 degC", "supply_temp_c: 35 degC"))
    expect(check).to_have_class(re.compile(r"\bok\b"))
    page.fill("#message", "cooler facility water")
    page.click("#save")                 # no file chosen this time: the table carries over
    expect(page.locator("#versions")).to_contain_text("cooler facility water")
    page.click("#compare")
    expect(page.locator("#changes")).to_contain_text("racks[0].cooling.supply_temp_c")
    expect(page.locator("#answers")).to_contain_text("(no run)")
    shot(page, "08-diff")

    page.goto(base + "/projects")
    page.click("#signout")
    sign_in(page, base, tokens["lab-engineer"])
    expect(page.locator("#who")).to_contain_text("lab-engineer")
    page.click(f"text={demo.PROJECT}")
    page.click("#run-latest")
    wait_for_run(page)
    page.click("#report")
    source = page.locator("section#source")
    expect(source).to_contain_text("Sourcing (totals)", timeout=RUN_TIMEOUT_MS)
    expect(source).to_contain_text("are withheld")
    expect(source).not_to_contain_text("Sourcing plan over the horizon")
    source.scroll_into_view_if_needed()
    shot(page, "09-lab-report-withheld", full_page=False)
