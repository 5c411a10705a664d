"""Browser tests: Playwright for Python driving Debian's Chromium against a real server.

The app under test is a second app on the test database (CSRF protection on, as in
production), served by werkzeug on 127.0.0.1 in a thread of the test process. Every test
gets a fresh browser context whose page fails the test on any JavaScript console error,
uncaught page error or Content-Security-Policy violation, and saves screenshots at desktop
and phone sizes to ``tests/e2e/screenshots/`` (git-ignored).

The webhook receiver fixture (``receiver``, tests/integration/webhook_support.py) is
imported here for the Webhooks screen's tests.

Chromium is found at ``/usr/bin/chromium`` (``CHROMIUM_PATH`` overrides); CI installs
Debian's ``chromium`` package when it is missing. Without it the tests fail, saying so.
"""
from __future__ import annotations

import os
import re
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.fakes.stripe import local_stripe
from tests.integration.webhook_support import receiver
from tests.views.console import second_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# One folder per storage mode: CI runs the PostgreSQL and the embedded pass side by side.
SCREENSHOTS = Path(__file__).parent / "screenshots" / (
    "postgresql" if os.environ.get("TEST_DATABASE_URL") else "embedded")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

# Reports every Content-Security-Policy violation as a console error, which the page
# fixture collects (Chromium also logs most of them itself, but not all, e.g. report-only).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("Content Security Policy violation: " + event.violatedDirective
                + " blocked " + (event.blockedURI || "inline code")
                + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM}: install Debian's "
                    "chromium package (apt-get install -y chromium) or set CHROMIUM_PATH.",
                    pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_app(app, tmp_dir):
    stripe_server = local_stripe()
    served = second_app(app, tmp_dir, WTF_CSRF_ENABLED=True, STRIPE_SECRET_KEY="sk_test_local",
                        STRIPE_PUBLISHABLE_KEY="pk_test_local",
                        STRIPE_API_BASE=stripe_server.url,
                        STRIPE_WEBHOOK_SECRET="whsec_test_secret", PAYMENT_TEST_CARDS=True)
    return served


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: a failing test's output shows what matters."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server(live_app):
    """The base URL of the app served over HTTP on a free port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True,
                         request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path)
        yield browser
        browser.close()


class BrowserErrors(list):
    """Console errors, page errors and CSP violations seen by a page.

    A page the test opens on purpose with an error status (a 404 page, a refused sign-in's
    401) is declared first with ``page.expect_error_status(path)``: Chromium's console line
    about that page's status is then not an error."""

    def __init__(self) -> None:
        super().__init__()
        self.expected_paths: set[str] = set()

    def watch(self, page) -> None:
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.append(f"page error: {error}"))
        page.expect_error_status = self.expected_paths.add

    def _console(self, message) -> None:
        if message.type == "error" or re.search("Content Security Policy", message.text, re.I):
            url = (message.location or {}).get("url", "")
            if message.text.startswith("Failed to load resource: the server responded with "
                                       "a status of 4") and urlsplit(url).path in \
                    self.expected_paths:
                return
            self.append(f"console {message.type}: {message.text} ({url})")


@contextmanager
def watched_page(browser, base_url: str, name: str, **context_options):
    """A page in a browser context of its own, watched for errors; screenshots under
    ``name``. ``context_options`` go to Playwright's ``new_context`` (``locale``...)."""
    context = browser.new_context(**{"base_url": base_url, "viewport": SIZES["desktop"],
                                     **context_options})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    errors = BrowserErrors()
    errors.watch(page)
    page.screenshots = Screenshots(page, name)
    yield page
    if not page.is_closed():
        page.evaluate("0")  # a round trip: console messages sent before it have arrived
    context.close()
    if not page.screenshots.taken:
        pytest.fail("an e2e test saves screenshots: call page.screenshots.take(step)",
                    pytrace=False)
    if errors:
        pytest.fail("the browser reported errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def page(browser, live_server, request):
    with watched_page(browser, live_server, request.node.name) as page:
        yield page


@pytest.fixture
def browser_page(browser, live_server, request):
    """Opens more pages, each in a browser of its own: ``browser_page("german",
    locale="de-DE")`` is a German browser (its Accept-Language too)."""
    with ExitStack() as pages:
        def open_page(name: str, **context_options):
            return pages.enter_context(watched_page(
                browser, live_server, f"{request.node.name}-{name}", **context_options))

        yield open_page


class Screenshots:
    """``page.screenshots.take("step")`` saves the page at desktop and phone sizes."""

    def __init__(self, page, test_name: str) -> None:
        self.page = page
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.taken: list[Path] = []

    def take(self, step: str, sizes: dict | None = None) -> None:
        """At desktop and phone sizes, or at ``sizes`` ({"name": {"width", "height"}})."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size_before = self.page.viewport_size
        for size_name, size in (sizes or SIZES).items():
            self.page.set_viewport_size(size)
            path = SCREENSHOTS / f"{self.prefix}-{step}-{size_name}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)
        self.page.set_viewport_size(size_before)


def pytest_terminal_summary(terminalreporter):
    """Name the screenshots folder in the log, so a CI reader knows where to look."""
    shots = sorted(SCREENSHOTS.glob("*.png")) if SCREENSHOTS.is_dir() else []
    if shots:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(shots)} screenshots (desktop and phone) in "
                                    f"{SCREENSHOTS.resolve()}")


__all__ = ["BrowserErrors", "Screenshots", "browser", "browser_page", "chromium_path",
           "live_app", "live_server", "page", "receiver", "watched_page"]
