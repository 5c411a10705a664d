"""A local Stripe-compatible test server (localstripe), bound to 127.0.0.1, kept in memory.

localstripe's own entry point listens on every interface and pickles its store to
/tmp/localstripe.pickle after every write (and reloads it at start). Here the same aiohttp
app runs on its own event loop in a daemon thread, on the address we choose, with disk
persistence turned off::

    with LocalStripe().start() as server:
        client = stripe.StripeClient("sk_test_local", base_addresses={"api": server.url})
        server.register_webhook("app", "http://127.0.0.1:5000/api/v1/webhooks/stripe",
                                "whsec_local_demo")

Or in the foreground (``make run`` does this when STRIPE_SECRET_KEY is not set)::

    python -m devservices.stripe_server --host 127.0.0.1 --port 8420 \\
        --webhook-url http://127.0.0.1:5000/api/v1/webhooks/stripe --webhook-secret whsec_...

localstripe keeps its objects and webhooks in module-level state, so every LocalStripe in
one process shares them; run one per process. Any ``sk_...`` key is accepted.
Test cards: payment method ``pm_card_visa`` succeeds, ``pm_card_chargeCustomerFail`` is
declined (HTTP 402, ``card_declined``). Webhooks (``payment_intent.*``) are posted about
one second after the event, signed like Stripe's (``Stripe-Signature: t=...,v1=...``).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

from devservices.ports import STAND_INS

log = logging.getLogger(__name__)

#: localstripe's auth middleware accepts any Bearer key that starts with ``sk_``.
API_KEY = "sk_test_local"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = STAND_INS["stripe"].default_port  # 8420


def _noop(*args, **kwargs) -> None:
    return None


def disable_persistence() -> None:
    """Make localstripe's store live in memory only: no /tmp/localstripe.pickle writes
    (every store write and every POST/PUT/DELETE dumps it) and no reload. Idempotent."""
    from localstripe.resources import Store

    Store.dump_to_disk = _noop
    Store.try_load_from_disk = _noop


def allow_a_new_attempt_after_a_decline() -> None:
    """Let a payment intent whose attempt was declined be confirmed again, as Stripe does.

    Stripe keeps such an intent in ``requires_payment_method`` and confirms it again with
    the next payment method given; localstripe keeps the failed charge as the latest and
    refuses to confirm. Here attaching a payment method to such an intent starts a new
    attempt (the failed charge stays in the store, as Stripe keeps it). Idempotent."""
    from localstripe.resources import PaymentIntent

    if getattr(PaymentIntent, "_new_attempt_after_decline", False):
        return
    update = PaymentIntent._api_update.__func__

    def _api_update(cls, id, **data):
        intent = cls._api_retrieve(id)
        latest = intent.latest_charge
        if data.get("payment_method") and latest is not None and latest.status == "failed":
            intent.latest_charge = None
        return update(cls, id, **data)

    PaymentIntent._api_update = classmethod(_api_update)
    PaymentIntent._new_attempt_after_decline = True


def _fresh_app():
    """A new aiohttp app with localstripe's routes, middlewares and response hooks.

    An aiohttp Application binds to the first event loop that runs it, and each
    LocalStripe.start() has its own loop, so ``localstripe.server.app`` itself is never
    run: its parts are copied (in order; the extra routes must stay first)."""
    from aiohttp import web

    with warnings.catch_warnings():
        # localstripe's GET/DELETE handlers are plain functions, which aiohttp deprecates
        # (once per route, when localstripe registers them and when they are copied).
        warnings.filterwarnings("ignore", "Bare functions are deprecated",
                                DeprecationWarning)
        from localstripe.server import app as localstripe_app

        app = web.Application(middlewares=list(localstripe_app.middlewares))
        for hook in localstripe_app.on_response_prepare:
            app.on_response_prepare.append(hook)
        for route in localstripe_app.router.routes():
            app.router.add_route(route.method, route.resource.canonical, route.handler)
    return app


class _ConfigApi:
    """The address of a server started here (``host``, ``port``; None until it runs) and
    localstripe's ``/_config`` API on it."""

    host: str | None
    port: int | None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the local Stripe server is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def register_webhook(self, endpoint_id: str, url: str, secret: str,
                         events: list[str] | None = None) -> None:
        """Post signed events (only ``events`` when given) to ``url``; the same id again
        replaces the endpoint. Nothing is sent until an event happens."""
        fields = [("url", url), ("secret", secret)]
        fields += [("events[]", event) for event in events or ()]
        self._config("POST", f"/_config/webhooks/{urllib.parse.quote(endpoint_id, safe='')}",
                     urllib.parse.urlencode(fields).encode())

    def flush(self) -> None:
        """Forget every object (payment intents, customers, ...); webhooks stay registered."""
        self._config("DELETE", "/_config/data")

    def _config(self, method: str, path: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


class LocalStripe(_ConfigApi):
    """localstripe's aiohttp app on ``host``:``port`` (0: a free port) in a daemon thread."""

    def __init__(self) -> None:
        self.host: str | None = None
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None
        self._stopped: asyncio.Event | None = None

    # Lifecycle

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def addresses(self) -> list:
        """The addresses the listening sockets are bound to (``(host, port)`` tuples)."""
        return list(self._runner.addresses) if self._runner is not None else []

    def start(self, host: str = DEFAULT_HOST, port: int = 0,
              timeout: float = 10.0) -> LocalStripe:
        if self.running:
            raise RuntimeError(f"the local Stripe server is already running on {self.url}")
        disable_persistence()
        allow_a_new_attempt_after_a_decline()
        app = _fresh_app()
        started = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._stopped = asyncio.Event()  # set (from any thread, via the loop) by stop()
        self._thread = threading.Thread(
            target=self._serve, args=(app, host, port, started, failure),
            name="local-stripe", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            self.stop()
            raise RuntimeError(f"the local Stripe server did not start within {timeout}s")
        if failure:
            self._thread.join(timeout)
            self._reset()
            raise failure[0]
        self._wait_until_accepting(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        self._reset()

    def __enter__(self) -> LocalStripe:
        return self if self.running else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _reset(self) -> None:
        self._thread = self._loop = self._runner = self._stopped = None
        self.host = self.port = None

    def _serve(self, app, host: str, port: int, started: threading.Event,
               failure: list[BaseException]) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._run(app, host, port, started))
        except BaseException as exc:  # reported to start(), which re-raises it
            failure.append(exc)
        finally:
            started.set()
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:  # e.g. webhooks still waiting to be sent
                    task.cancel()
                if pending:
                    loop.run_until_complete(
                        asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _run(self, app, host: str, port: int, started: threading.Event) -> None:
        from aiohttp import web

        runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access"),
                               handle_signals=False)
        await runner.setup()
        self._runner = runner
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0]
            self.host, self.port = bound[0], bound[1]
            started.set()
            await self._stopped.wait()
        finally:
            await runner.cleanup()

    def _wait_until_accepting(self, timeout: float) -> None:
        with socket.create_connection((self.host, self.port), timeout=timeout):
            pass

class LocalStripeProcess(_ConfigApi):
    """The same server in a process of its own (``python -m devservices.stripe_server``
    on a free port, every request and webhook delivery logged to ``log_path``): for load
    tests, where a server thread would compete with the test's own threads for one
    interpreter."""

    def __init__(self, log_path: str) -> None:
        self.log_path = log_path
        self.host, self.port = DEFAULT_HOST, None
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 30.0) -> LocalStripeProcess:
        with socket.socket() as probe:
            probe.bind((DEFAULT_HOST, 0))
            self.port = probe.getsockname()[1]
        with open(self.log_path, "wb") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "devservices.stripe_server", "--host", DEFAULT_HOST,
                 "--port", str(self.port), "--log-requests"],
                cwd=Path(__file__).resolve().parent.parent,
                stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the local Stripe server exited; see {self.log_path}")
            try:
                with socket.create_connection((DEFAULT_HOST, self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the local Stripe server did not start within "
                                       f"{timeout:g} s; see {self.log_path}") from None
                time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def log_lines(self) -> list[str]:
        with open(self.log_path, encoding="utf-8", errors="replace") as log_file:
            return log_file.read().splitlines()

    def __enter__(self) -> LocalStripeProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devservices.stripe_server",
        description="Run a local Stripe-compatible test server (test cards only).")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--webhook-url", help="where to post signed payment_intent.* events")
    parser.add_argument("--webhook-secret", help="the signing secret (whsec_...)")
    parser.add_argument("--log-requests", action="store_true",
                        help="log every request and every webhook delivery")
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.log_requests:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    try:
        server = LocalStripe().start(args.host, args.port)
    except OSError as exc:
        log.error("cannot listen on %s port %s: %s", args.host, args.port, exc)
        return 1
    try:
        if args.webhook_url:
            server.register_webhook("local", args.webhook_url, args.webhook_secret)
        log.info("local Stripe test server on %s%s", server.url,
                 f" (webhooks to {args.webhook_url})" if args.webhook_url else "")
        while not stop_requested.wait(1.0):
            if not server.running:
                log.error("the local Stripe server stopped unexpectedly")
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
