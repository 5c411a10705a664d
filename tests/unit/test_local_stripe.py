"""The local Stripe test server: loopback only, in memory, and real enough for stripe-python
(payments with test cards, declines, signed webhooks) — see devservices/stripe_server.py."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe

from tests.fakes.stripe import DECLINED, VISA, local_stripe, stripe_client

PICKLE = Path("/tmp/localstripe.pickle")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server():
    return local_stripe()


@pytest.fixture(scope="module")
def api(server):
    return stripe_client(server)


def test_listens_on_loopback_only(server):
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.addresses
    assert all(address[0] == "127.0.0.1" for address in server.addresses)


def test_writes_nothing_to_disk(api):
    try:
        PICKLE.unlink()
    except FileNotFoundError:
        pass
    before = PICKLE.stat().st_mtime_ns if PICKLE.exists() else None  # not ours to delete

    intent = api.v1.payment_intents.create(params={"amount": 500, "currency": "eur"})
    api.v1.payment_intents.update(intent.id, params={"metadata": {"k": "v"}})

    after = PICKLE.stat().st_mtime_ns if PICKLE.exists() else None
    assert after == before


def test_visa_payment_succeeds(api):
    intent = api.v1.payment_intents.create(params={
        "amount": 2500, "currency": "eur", "metadata": {"booking_id": "42"},
        "payment_method": VISA,
    })
    assert intent.status == "requires_confirmation"

    confirmed = api.v1.payment_intents.confirm(intent.id)

    assert confirmed.status == "succeeded"
    assert (confirmed.amount, confirmed.currency) == (2500, "eur")
    assert confirmed.metadata.to_dict() == {"booking_id": "42"}
    # Unlike Stripe, latest_charge comes back as the whole charge, not its id.
    assert confirmed.latest_charge.status == "succeeded"
    assert api.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_declined_card_raises_card_error_and_leaves_intent_unpaid(api):
    intent = api.v1.payment_intents.create(params={
        "amount": 2500, "currency": "eur", "payment_method": DECLINED,
    })

    with pytest.raises(stripe.CardError) as caught:
        api.v1.payment_intents.confirm(intent.id)

    assert caught.value.http_status == 402
    assert caught.value.code == "card_declined"
    after = api.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "card_declined"


class _Receiver:
    """A tiny HTTP endpoint on 127.0.0.1 that records what is posted to it."""

    def __init__(self):
        self.deliveries: list[tuple[dict, bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    receiver.deliveries.append((dict(self.headers), body))
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def wait_for(self, predicate, timeout=4.0):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for headers, body in self.deliveries:
                    if predicate(json.loads(body)):
                        return headers, body
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching webhook within {timeout}s")
                self.arrived.wait(left)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_registered_webhook_gets_signed_succeeded_event(server, api):
    secret = "whsec_test_" + uuid.uuid4().hex
    receiver = _Receiver()
    try:
        server.register_webhook("test-" + uuid.uuid4().hex, receiver.url, secret,
                                events=["payment_intent.succeeded"])
        intent = api.v1.payment_intents.create(params={
            "amount": 1800, "currency": "eur", "metadata": {"booking_id": "7"},
            "payment_method": VISA, "confirm": True,
        })

        headers, body = receiver.wait_for(
            lambda event: event["data"]["object"]["id"] == intent.id)
    finally:
        receiver.close()

    signature = {k.lower(): v for k, v in headers.items()}["stripe-signature"]
    assert stripe.WebhookSignature.verify_header(body.decode(), signature, secret, 300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), signature, "whsec_wrong", 300)
    event = json.loads(body)
    assert event["type"] == "payment_intent.succeeded"
    assert event["data"]["object"]["metadata"] == {"booking_id": "7"}


def test_flush_forgets_objects(server, api):
    intent = api.v1.payment_intents.create(params={"amount": 100, "currency": "eur"})
    server.flush()
    with pytest.raises(stripe.InvalidRequestError):
        api.v1.payment_intents.retrieve(intent.id)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_command_line_runs_until_sigterm():
    port = _free_port()
    # The webhook target is not listening: registering it must not need it to be up.
    command = [sys.executable, "-m", "devservices.stripe_server", "--host", "127.0.0.1",
               "--port", str(port), "--webhook-url", f"http://127.0.0.1:{_free_port()}/x",
               "--webhook-secret", "whsec_cli"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = process.stderr.readline()
        assert f"local Stripe test server on http://127.0.0.1:{port}" in line, line
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def test_in_a_process_of_its_own_it_logs_requests_and_webhook_deliveries(tmp_path):
    """LocalStripeProcess (the load benchmarks' server): configured over its /_config API
    from this process, every request and webhook delivery in its log, gone once stopped."""
    from devservices.stripe_server import LocalStripeProcess

    secret = "whsec_test_" + uuid.uuid4().hex
    receiver = _Receiver()
    server = LocalStripeProcess(str(tmp_path / "stripe.log")).start()
    try:
        server.register_webhook("process", receiver.url, secret,
                                events=["payment_intent.succeeded"])
        intent = stripe_client(server).v1.payment_intents.create(params={
            "amount": 900, "currency": "eur", "payment_method": VISA, "confirm": True})
        receiver.wait_for(lambda event: event["data"]["object"]["id"] == intent.id)
        deadline = time.monotonic() + 4
        while not any("successfully delivered" in line for line in server.log_lines()):
            assert time.monotonic() < deadline, server.log_lines()
            time.sleep(0.05)
        port = server.port
    finally:
        server.stop()
        receiver.close()

    lines = server.log_lines()
    assert any("POST /v1/payment_intents" in line for line in lines), lines
    assert sum('webhook "payment_intent.succeeded" successfully delivered' in line
               for line in lines) == 1
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
