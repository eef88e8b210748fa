"""Browser fixtures: a served demo project (``workbench serve --auth`` in a subprocess) and headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, or ``$WORKBENCH_CHROMIUM``). Without it the tests skip with a
plain reason, unless ``WORKBENCH_REQUIRE_BROWSER=1``, in which case they fail. Screenshots go to
``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.harness import stop_process

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
PASSWORDS = {"alice": ("approver", "alice-pass-1"), "ed": ("editor", "ed-pass-123"), "vic": ("viewer", "vic-pass-12")}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str | None:
    """The Chromium binary to drive, or None."""
    override = os.environ.get("WORKBENCH_CHROMIUM")
    if override:  # an explicit choice is respected: missing means missing
        return override if Path(override).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not listen on port {port} in time")


@contextlib.contextmanager
def serving(cmd: list[str], port: int, log: Path, *, env: dict[str, str], cwd: Path,
            timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """Run server ``cmd`` (output to ``log``) until it listens on ``port``; stop it on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(cwd))
    try:
        _wait_port(port, proc, log, timeout=timeout)
        yield proc
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Chromium, or skip (fail when WORKBENCH_REQUIRE_BROWSER=1)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium not found and WORKBENCH_REQUIRE_BROWSER=1 (install it: apt-get install chromium)")
        pytest.skip("Chromium not found (set WORKBENCH_CHROMIUM or apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed")
    return path


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo project (references, catalog, folders, collections) with three users."""
    from workbench.demo import build_demo
    from workbench.ui.auth import UsersFile

    base = tmp_path_factory.mktemp("served")
    project = base / "project"
    build_demo(project, base / "refs", full=False)
    users = UsersFile(project / "users.toml")
    for name, (role, password) in PASSWORDS.items():
        users.add(name, password, role)
    return project


@pytest.fixture(scope="module")
def hostile_asset(demo_project: Path) -> dict[str, str]:
    """An output asset whose name and title are HTML/JS, to check escaping end to end."""
    import workbench
    from tests.ui.helpers import draw_png

    wb = workbench.open(demo_project, user="mallory")
    found = wb.assets(query="hostile", limit=1)
    if found:
        return {"asset_id": found[0]["id"], "version_id": found[0]["version_id"]}
    sha = wb.library.put_blob(draw_png((250, 10, 10)))
    asset_id = wb.library.create_asset("hostile <script>alert(1)</script>", sku="SKU-6666",
                               title='<img src=x onerror="alert(2)">', role="output")
    version_id = wb.library.add_version(asset_id, sha, message="<b>bold</b> <script>alert(3)</script>")
    return {"asset_id": asset_id, "version_id": version_id}


@pytest.fixture(scope="module")
def server(demo_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``workbench serve --auth`` on a free loopback port; yields its base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_USER"] = "server"
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()", "serve", "--project", str(demo_project),
           "--address", "127.0.0.1", "--port", str(port), "--auth", "--no-show"]
    with serving(cmd, port, log, env=env, cwd=ROOT):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[object]:
    """A headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def login(browser: object, base: str, name: str, viewport: tuple[int, int] = (1400, 1000)) -> object:
    """A new page signed in as ``name``; every request URL is kept on ``page.requests``."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})  # type: ignore[attr-defined]
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append(r.url))  # type: ignore[attr-defined]
    page.goto(base + "/")
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name][1])
    page.click("#login-submit")
    page.wait_for_selector("#wb-user", timeout=30000)
    return page


def choose(page: Any, index: int, text: str) -> None:
    """Type ``text`` into the ``index``-th visible Choices (MultiChoice) input and take the first match."""
    box = page.locator(".choices__input--cloned:visible").nth(index)
    box.click()
    box.press_sequentially(text)
    page.wait_for_timeout(300)
    page.locator(".choices__list--dropdown .choices__item--selectable:visible", has_text=text).first.click()
    page.keyboard.press("Escape")


def shot(page: object, name: str, full_page: bool = True) -> Path:
    """Save a screenshot (the full page unless ``full_page=False``) under artifacts/screenshots/.

    Chromium's full-page capture lays iframes out again at their default 300 px width, so a page showing
    an iframe (the savings report) is captured as the viewport instead.
    """
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path
