"""Mail and SMS against real servers in the test process.

- ``smtp``: an aiosmtpd SMTP server on 127.0.0.1 that records what it accepts; it can
  refuse a recipient (``refuse_rcpt[address] = "550 ..."``) or the data (``data_reply``).
- ``twilio``: a local HTTP server standing in for Twilio's REST API; the official client
  is pointed at it (``TWILIO_API_BASE``). It records the forms posted to
  ``/2010-04-01/Accounts/{sid}/Messages.json``; ``answers[to] = (status, body)`` makes it
  fail for one number.
"""
from __future__ import annotations

import itertools
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from app.extensions import db
from app.models import Account
from app.services import bookings

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-twilio-auth-token"
FROM_NUMBER = "+15005550006"
MOBILE = "+4915112345678"
OTHER_MOBILE = "+4915112345679"


class TwilioStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _TwilioHandler)
        self.posts = []  # (path, form)
        self.answers: dict[str, tuple[int, dict]] = {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sent_to(self, number):
        return [form for _path, form in self.posts if form.get("To") == number]


class _TwilioHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        server = self.server
        if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
        server.posts.append((self.path, form))
        status, body = server.answers.get(form.get("To"), (201, None))
        if body is None:
            body = {"sid": "SM" + uuid.uuid4().hex, "account_sid": ACCOUNT_SID,
                    "to": form.get("To"), "from": form.get("From"), "body": form.get("Body"),
                    "status": "queued", "num_segments": "1"}
        self._answer(status, body)

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def twilio(app, monkeypatch):
    server = TwilioStandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    for key, value in {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_FROM_NUMBER": FROM_NUMBER,
                       "TWILIO_API_BASE": server.url}.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def outbox(app, monkeypatch, tmp_path):
    """No SMTP, no Twilio: messages become files here."""
    for key in ("MAIL_SERVER", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setitem(app.config, key, None)
    monkeypatch.setitem(app.config, "NOTIFICATION_OUTBOX_DIR", str(tmp_path / "outbox"))
    return tmp_path / "outbox"


def run_jobs(app):
    """With Redis, work the events, payments (receipt PDFs are rendered there) and
    notifications queues until they are empty; inline needs nothing."""
    if app.config.get("REDIS_URL"):
        from rq import SimpleWorker

        from app import jobqueue
        from app.redis import redis_client

        SimpleWorker([jobqueue.get_queue("events"), jobqueue.get_queue("payments"),
                      jobqueue.get_queue("notifications")],
                     connection=redis_client()).work(burst=True)


_hours = itertools.count()


def customer(build, *, email=None, phone=MOBILE, sms=True, mail=True, locale="en") -> int:
    account_id = build.customer(email=email)
    account = db.session.get(Account, account_id)
    account.first_name, account.last_name = "Ada", "Lovelace"
    account.phone, account.notify_sms, account.notify_email = phone, sms, mail
    account.locale = locale
    db.session.commit()
    return account_id


def confirmed_booking(app, build, customer_id, *, provider_id=None, starts_at=None,
                      price_minor=4200) -> str:
    """A pay-at-venue booking confirmed by staff: ``booking.confirmed`` is delivered and
    its messages sent before this returns."""
    provider_id = provider_id or build.provider(name="Alpha Spa", timezone="Europe/Berlin")
    offering = build.offering(provider_id, price_minor=price_minor, currency="EUR",
                              pay_at_venue=True, name="Deep tissue massage")
    if starts_at is None:
        starts_at = (datetime.now(timezone.utc) + timedelta(days=5, hours=next(_hours))
                     ).replace(second=0, microsecond=0)
    slot = build.slot(offering, starts_at, capacity=5)
    placed = bookings.place_booking(customer_id=customer_id, offering_id=offering, slot_id=slot)
    bookings.confirm_booking(placed.reference, actor=bookings.Actor(None, "test"),
                             scope=bookings.Scope.all_providers())
    run_jobs(app)
    return placed.reference
