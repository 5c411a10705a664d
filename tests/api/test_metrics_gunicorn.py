"""``/metrics`` of a real gunicorn with two workers: one scrape sums both processes
(prometheus-client's multiprocess mode, set up by gunicorn.conf.py)."""
from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, Receipt
from tests.helpers import bearer, token_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-the-test"
ROUTE = "/readyz"  # not /healthz: the start-up wait below asks that one


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _post(url: str, body: dict, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def gunicorn(app, tmp_path):
    """gunicorn wsgi:app, 2 workers, on this test's database (and Redis when given)."""
    port, directory = _free_port(), tmp_path / "metrics"
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "METRICS_ENABLED",
                          "MAIL_SERVER", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")}
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"], "JWT_SECRET_KEY": app.config["JWT_SECRET_KEY"],
        "BOOKWELL_INSTANCE_DIR": str(tmp_path / "instance"), "FAB_UPDATE_PERMS": "False",
        "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(directory), "METRICS_TOKEN": TOKEN,
        "NOTIFICATION_OUTBOX_DIR": str(tmp_path / "outbox"),
        **({"REDIS_URL": app.config["REDIS_URL"]} if app.config["REDIS_URL"] else {}),
    })
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left over")  # emptied at start
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while _get_quietly(base + "/healthz") != 200:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.25)
        yield base, directory, env
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        log.close()


def _get_quietly(url: str) -> int | None:
    try:
        return _get(url)[0]
    except OSError:
        return None


def _served_by_pid(directory: Path) -> dict[int, float]:
    """Requests to ROUTE each worker process counted, read from its own file."""
    served = {}
    for path in glob.glob(str(directory / "counter_*.db")):
        pid = int(Path(path).stem.split("_")[1])
        for family in MultiProcessCollector.merge([path]):
            for sample in family.samples:
                if (sample.name == "bookwell_http_requests_total"
                        and sample.labels.get("route") == ROUTE):
                    served[pid] = served.get(pid, 0) + sample.value
    return served


def _figures(base: str) -> dict[tuple, float]:
    status, body = _get(base + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body[:300]
    figures = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            figures[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return figures


def test_one_scrape_sums_both_workers(gunicorn, app, build):
    base, directory, env = gunicorn
    assert not (directory / "counter_1.db").exists()

    # Parallel requests until both workers have answered some (the second may still be
    # building its app at first).
    made, deadline = 0, time.monotonic() + 90
    with ThreadPoolExecutor(8) as pool:
        while time.monotonic() < deadline:
            statuses = list(pool.map(lambda _: _get(base + ROUTE)[0], range(16)))
            assert set(statuses) == {200}
            made += len(statuses)
            if len([n for n in _served_by_pid(directory).values() if n > 0]) >= 2:
                break
    served = _served_by_pid(directory)
    assert len([n for n in served.values() if n > 0]) == 2, served

    # Built now: in embedded mode each worker's first request runs the periodic work,
    # which removes slots no availability rule asks for (its next run is a minute away).
    provider = build.provider()
    service = build.offering(provider, name="Massage", price_minor=6000, pay_at_venue=True)
    staff, customer = build.staff(provider), build.customer()
    slot = build.future_slot(service, capacity=50)
    booked = [_post(base + "/api/v1/bookings", {"offering_id": service, "slot_id": slot,
                                                "quantity": 1}, bearer(token_for(customer)))
              for _ in range(4)]
    assert [status for status, _ in booked] == [201] * 4, booked
    reference = json.loads(booked[0][1])["reference"]
    paid = _post(f"{base}/api/v1/provider/bookings/{reference}/mark-paid",
                 {"method": "cash"}, bearer(token_for(staff)))
    assert paid[0] == 201, paid
    if app.config["REDIS_URL"]:
        # The RQ worker, forking a process per job, writes to the same directory.
        subprocess.run([sys.executable, "-m", "flask", "bookwell", "worker", "--burst"],
                       cwd=ROOT, env={**env, "FLASK_APP": "wsgi"}, check=True, timeout=300,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    figures = _figures(base)

    def counted(name, **labels):
        return figures.get((name, tuple(sorted(labels.items()))), 0.0)

    assert counted("bookwell_http_requests_total", method="GET", route=ROUTE,
                   status="200") == made
    assert sum(served.values()) == made
    assert counted("bookwell_http_requests_total", method="POST", route="/api/v1/bookings",
                   status="201") == 4
    assert counted("bookwell_bookings_total", event="placed") == 4
    assert counted("bookwell_events_total", topic="booking.created") == 4
    assert counted("bookwell_bookings_total", event="confirmed") == 1
    assert counted("bookwell_payments_total", outcome="succeeded", gateway="manual") == 1
    db.session.expire_all()
    sent = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.status == "sent", Notification.channel == "email"))
    receipts = db.session.scalar(select(func.count()).select_from(Receipt))
    assert sent >= 1 and receipts == 1
    assert counted("bookwell_messages_total", channel="email", outcome="sent") == sent
    assert counted("bookwell_receipts_total", kind="receipt") == receipts


def test_the_token_is_required(gunicorn):
    base, _, _ = gunicorn
    assert _get(base + "/metrics")[0] == 401
    assert _get(base + "/metrics", {"Authorization": "Bearer nope"})[0] == 401
    assert _get(base + "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
