"""Browser-test harness: run the Streamlit app, look at it in headless Chromium.

A helper module for tests (not collected by pytest). Chromium is Debian's
(``/usr/bin/chromium``, installed by ``.ci/run``), never one that Playwright
downloads. Every request to a host other than this machine is aborted and
recorded, so a test can prove that the page needs no internet.

Typical use (``tests/`` is on ``sys.path`` under pytest's default import
mode; with a ``tests/__init__.py`` import ``tests.browser`` instead)::

    from browser import browser_available, needs_browser, open_page, start_app

    @needs_browser
    def test_dashboard_draws_map(tmp_path, demo_db):
        with start_app(demo_db) as url:
            page = open_page(url, tmp_path / "dashboard.png")
        assert page.external_requests == []
        assert page.exceptions == [] and page.console_errors == []
        assert page.map_found and page.map_paths > 0 and page.map_size[1] > 0

Convention: ``needs_browser`` skips a test when Chromium (or Playwright) is
missing locally, but when the environment variable ``CI`` is set a missing
browser is a failure, not a skip (``require_browser()`` does the same inside
a test or fixture).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The planner account every browser test signs in with unless it says otherwise.
TEST_ACCOUNT = ("tester", "test-password-1")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

#: The iframe streamlit-folium renders the map in (Streamlit's components v1
#: iframe: ``data-testid="stCustomComponentV1"``, title = component name).
FOLIUM_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: The app has connected and its script run has finished.
APP_READY = (
    '[data-testid="stApp"][data-test-script-state="notRunning"]'
    '[data-test-connection-state="CONNECTED"]'
)


# --------------------------------------------------------------------------
# Is a browser there?


def browser_available() -> bool:
    """True if Debian's Chromium and the Playwright package are installed."""
    if not os.access(CHROMIUM, os.X_OK):
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def _missing_browser_reason() -> str:
    return (
        f"no browser: needs {CHROMIUM} (apt-get install chromium fonts-noto-cjk) "
        "and the playwright package"
    )


def require_browser() -> None:
    """Skip the calling test if there is no browser; fail instead under CI."""
    if browser_available():
        return
    if os.environ.get("CI"):
        pytest.fail(_missing_browser_reason() + " (CI is set: not skipping)")
    pytest.skip(_missing_browser_reason())


#: Marker for browser tests: skipped locally without a browser, but under CI
#: (env CI set) the condition is False, so the test runs and fails loudly.
needs_browser = pytest.mark.skipif(
    not browser_available() and not os.environ.get("CI"),
    reason=_missing_browser_reason(),
)


# --------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


@contextlib.contextmanager
def start_app(
    db_path: str | os.PathLike[str],
    port: int | None = None,
    script: str | os.PathLike[str] = "dashboard/app.py",
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``streamlit run SCRIPT`` from the repo root; yield its base URL.

    The server gets ``MINQING_DB=db_path`` (plus ``env``), listens on
    127.0.0.1 only, and reads the repo's ``.streamlit/config.toml``. Its
    whole process group is terminated on exit. Raises ``RuntimeError`` with
    the server's output if it dies or is not healthy within ``timeout``.
    """
    _ensure_test_account(db_path)
    port = port or free_port()
    cmd = [
        _python(), "-m", "streamlit", "run", str(script),
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
    ]
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["MINQING_DB"] = str(db_path)
    # The app imports the repo's packages (dashboard, geo, etl) from any cwd.
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), full_env.get("PYTHONPATH", "")) if p
    )
    full_env["PYTHONUNBUFFERED"] = "1"

    log_dir = Path(tempfile.mkdtemp(prefix="minqing-app-"))
    out_path, err_path = log_dir / "stdout.log", log_dir / "stderr.log"
    base = f"http://127.0.0.1:{port}"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=full_env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=err, start_new_session=True,
        )
        try:
            _wait_healthy(proc, base, timeout, out_path, err_path)
            yield base
        finally:
            _stop(proc)
            shutil.rmtree(log_dir, ignore_errors=True)


def _ensure_test_account(db_path) -> None:
    from access import store

    try:
        store.get_user(db_path, TEST_ACCOUNT[0])
    except store.AccessError:
        store.add_user(db_path, TEST_ACCOUNT[0], "planner", TEST_ACCOUNT[1], by="tests")


def _wait_healthy(
    proc: subprocess.Popen, base: str, timeout: float, out_path: Path, err_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with code {proc.returncode} before answering "
                f"{base}/_stcore/health\n--- stderr ---\n{_tail(err_path)}"
                f"\n--- stdout ---\n{_tail(out_path)}"
            )
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"streamlit not healthy at {base} after {timeout:.0f} s"
                f"\n--- stderr ---\n{_tail(err_path)}\n--- stdout ---\n{_tail(out_path)}"
            )
        time.sleep(0.25)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    else:
        # The leader is gone; do not leave children of its group behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------
# The page


@dataclass
class PageResult:
    url: str
    screenshot: Path
    #: The app connected and finished running its script.
    app_ready: bool = False
    #: The streamlit-folium iframe holds a ``.leaflet-container``.
    map_found: bool = False
    #: ``path.leaflet-interactive`` in that iframe (drawn polygons/lines).
    map_paths: int = 0
    #: (width, height) of that iframe on the page, (0, 0) if absent. A map
    #: whose script failed can have paths but a zero-height iframe.
    map_size: tuple[int, int] = (0, 0)
    #: Requests to hosts other than this machine (all were aborted).
    external_requests: list[str] = field(default_factory=list)
    #: Text of each ``[data-testid="stException"]`` on the page.
    exceptions: list[str] = field(default_factory=list)
    #: ``console.error`` messages and uncaught page errors (all frames).
    console_errors: list[str] = field(default_factory=list)
    #: Local responses with status >= 400, as "STATUS URL".
    http_errors: list[str] = field(default_factory=list)
    #: ``document.title`` of the top page.
    title: str = ""
    #: Bytes the server sent over Streamlit's websocket (the page's data, maps included).
    ws_bytes: int = 0
    #: Whatever ``then`` recorded.
    extra: dict = field(default_factory=dict)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


def open_page(
    url: str,
    screenshot_path: str | os.PathLike[str],
    *,
    timeout: float = 60.0,
    map_timeout: float = 20.0,
    expect_map: bool = True,
    viewport: tuple[int, int] = (1400, 1000),
    settle_ms: int = 500,
    then=None,
    sign_in_as: tuple[str, str] | None = None,
) -> PageResult:
    """Open ``url`` in headless Chromium (no internet) and report what it shows.

    Waits until Streamlit has connected and finished its script run, then
    (if ``expect_map``) up to ``map_timeout`` s for the folium map to draw
    at least one interactive path, then saves a full-page screenshot. Never
    raises for what it observes (a missing map, exceptions, ...): it reports
    them in the returned ``PageResult``; only a page that never becomes
    ready within ``timeout`` leaves ``app_ready`` False. ``then(page, result)``,
    if given, runs after the map check (to click, navigate, and record into
    ``result.extra``); the screenshot shows the page after it. The app asks
    for a sign-in first: ``sign_in_as`` (name, password) answers it, by default
    the planner account ``start_app`` creates; ``sign_in_as=()`` stays signed out.
    """
    if sign_in_as is None:
        sign_in_as = TEST_ACCOUNT
    if not browser_available():
        raise RuntimeError(_missing_browser_reason())
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    shot = Path(screenshot_path)
    shot.parent.mkdir(parents=True, exist_ok=True)
    result = PageResult(url=url, screenshot=shot)

    def route(r) -> None:
        req_url = r.request.url
        if _is_local(req_url):
            r.continue_()
        else:
            result.external_requests.append(req_url)
            r.abort()

    def on_console(msg) -> None:
        if msg.type == "error":
            result.console_errors.append(msg.text)

    def on_response(resp) -> None:
        if resp.status >= 400 and _is_local(resp.url):
            result.http_errors.append(f"{resp.status} {resp.url}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                locale="zh-CN",
                service_workers="block",
            )
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda exc: result.console_errors.append(str(exc)))
            page.on("response", on_response)

            def on_ws(ws) -> None:
                def count(payload) -> None:
                    result.ws_bytes += len(payload.encode() if isinstance(payload, str) else payload)
                ws.on("framereceived", count)

            page.on("websocket", on_ws)

            page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
            result.app_ready = wait_ready(page, timeout)
            if sign_in_as and sign_in(page, *sign_in_as, timeout=timeout):
                result.app_ready = wait_ready(page, timeout)

            if expect_map:
                _look_at_map(page, result, map_timeout)
            if then is not None:
                then(page, result)

            page.wait_for_timeout(settle_ms)
            result.exceptions = [
                t.strip()
                for t in page.locator('[data-testid="stException"]').all_inner_texts()
            ]
            with contextlib.suppress(PlaywrightError):
                result.title = page.title()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return result


def wait_ready(page, timeout: float = 60.0) -> bool:
    """Wait until Streamlit is connected and its script run has finished, with a title drawn."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(APP_READY, timeout=timeout * 1000)
    except PlaywrightTimeout:
        return False
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=10_000)
    # "notRunning" also holds for a moment before the first run starts: wait for the
    # page's title and for the placeholders of a running script to be gone
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "() => document.querySelector('h1') && !document.querySelector('[data-testid=\"stSkeleton\"]')"
            " && document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'",
            timeout=timeout * 1000)
    return True


def sign_in(page, name: str, password: str, timeout: float = 60.0) -> bool:
    """Fill the sign-in form if the page shows it; True when it was there (the page has reloaded
    into the app: call wait_ready)."""
    box = page.get_by_label("密码", exact=True)
    if not box.count():
        return False
    page.get_by_label("账号", exact=True).fill(name)
    box.fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_function("() => !document.querySelector('input[type=\"password\"]')", timeout=timeout * 1000)
    return True


def goto(page, url: str, sign_in_as: tuple[str, str] | None = None, timeout: float = 60.0) -> None:
    """Load `url` in the page (a new session of the app) and sign in again."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    wait_ready(page, timeout)
    if sign_in(page, *(sign_in_as or TEST_ACCOUNT), timeout=timeout):
        wait_ready(page, timeout)


def _look_at_map(page, result: PageResult, map_timeout: float) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + map_timeout
    iframe = page.locator(FOLIUM_IFRAME).first
    try:
        iframe.wait_for(state="attached", timeout=map_timeout * 1000)
    except PlaywrightTimeout:
        return
    frame = page.frame_locator(FOLIUM_IFRAME).first
    container = frame.locator(".leaflet-container").first
    try:
        remaining = max(deadline - time.monotonic(), 1.0)
        container.wait_for(state="attached", timeout=remaining * 1000)
        result.map_found = True
    except PlaywrightTimeout:
        return
    paths = frame.locator("path.leaflet-interactive")
    while True:
        result.map_paths = paths.count()
        if result.map_paths > 0 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(250)  # let the component report its frame height
    box = iframe.bounding_box()
    if box:
        result.map_size = (round(box["width"]), round(box["height"]))
