"""`make run` and its ports (devservices/ports.py, bin/run-server): the app's own port is
kept or refused before anything slow happens; a local stand-in whose default port is taken
moves to a free one, says so, and is served there."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from devservices import ports

ROOT = Path(__file__).resolve().parents[2]
STRIPE_DEFAULT = ports.STAND_INS["stripe"].default_port
# What would make bin/run-server use real services, other ports or Redis.
OUTSIDE_SETTINGS = ("PORT", "LOCAL_STRIPE_PORT", "LOCAL_PAYPAL_PORT", "PUBLIC_BASE_URL",
                    "STRIPE_SECRET_KEY", "PAYPAL_CLIENT_ID", "REDIS_URL", "DATABASE_URL",
                    "MAIL_SERVER", "TWILIO_ACCOUNT_SID", "NOTIFICATION_OUTBOX_DIR")


@contextmanager
def listening(port: int = 0):
    """Another program on 127.0.0.1:port (0: any free port); yields the port. When the port
    is already in use by someone else, it is taken all the same."""
    with socket.socket() as other:
        try:
            other.bind(("127.0.0.1", port))
            other.listen()
        except OSError:
            assert port and not ports.port_is_free(port)
        yield port or other.getsockname()[1]


def free_port() -> int:
    return ports.next_free_port(20000)


def run_env(tmp_path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_SETTINGS}
    env.update(BOOKWELL_INSTANCE_DIR=str(tmp_path / "instance"), DEMO="0", WORKERS="1",
               LOG_LEVEL="WARNING")
    env.update(settings)
    return env


def test_a_stand_in_whose_default_is_taken_gets_another_port_and_a_note():
    with listening(STRIPE_DEFAULT):
        port, note = ports.stand_in_port("stripe", {})
    assert port != STRIPE_DEFAULT
    # Never the app's port or the port the other stand-in tries first.
    assert port not in {ports.DEFAULT_APP_PORT, ports.STAND_INS["paypal"].default_port}
    assert note == (f"port {STRIPE_DEFAULT} is taken, so the local Stripe test server listens "
                    f"on 127.0.0.1:{port} (set LOCAL_STRIPE_PORT to choose its port)")


def test_a_stand_in_never_takes_the_apps_port():
    env = {"PORT": str(STRIPE_DEFAULT)}
    port, note = ports.stand_in_port("stripe", env)
    assert port != STRIPE_DEFAULT and "is PORT" in note


def test_a_stand_in_port_set_on_purpose_is_kept_or_refused():
    wanted = free_port()
    assert ports.stand_in_port("paypal", {"LOCAL_PAYPAL_PORT": str(wanted)}) == (wanted, None)
    with listening() as taken:
        with pytest.raises(ports.PortProblem, match=f"port {taken} \\(LOCAL_PAYPAL_PORT\\) "
                                                     "is taken"):
            ports.stand_in_port("paypal", {"LOCAL_PAYPAL_PORT": str(taken)})
        # make run's first step refuses it too, before installing anything.
        with pytest.raises(ports.PortProblem, match="LOCAL_PAYPAL_PORT"):
            ports.preflight({"PORT": str(free_port()), "LOCAL_PAYPAL_PORT": str(taken)})
        # ... unless the stand-in is not started: real PayPal credentials are set.
        ports.preflight({"PORT": str(free_port()), "LOCAL_PAYPAL_PORT": str(taken),
                         "PAYPAL_CLIENT_ID": "live-client"})


def test_the_app_port_is_never_moved():
    with listening() as taken:
        with pytest.raises(ports.PortProblem) as problem:
            ports.app_port({"PORT": str(taken)})
    assert f"port {taken} (PORT) is taken" in str(problem.value)
    assert re.search(r"e\.g\. PORT=\d+ make run", str(problem.value))
    with pytest.raises(ports.PortProblem, match="not a port number"):
        ports.app_port({"PORT": "http"})


def test_run_server_stops_at_a_taken_port_before_starting_anything(tmp_path):
    with listening() as taken:
        finished = subprocess.run(["bash", "bin/run-server"], cwd=ROOT, capture_output=True,
                                  text=True, timeout=60, env=run_env(tmp_path, PORT=str(taken)))
    assert finished.returncode != 0
    assert f"run-server: port {taken} (PORT) is taken" in finished.stderr
    assert "Bookwell is running" not in finished.stdout
    assert "local Stripe" not in finished.stderr + finished.stdout  # nothing was started


def test_make_run_stops_at_a_taken_port_before_installing(tmp_path):
    venv = tmp_path / "venv"
    with listening() as taken:
        finished = subprocess.run(
            ["make", "--no-print-directory", "run", f"PORT={taken}", f"VENV={venv}"],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env=run_env(tmp_path))
    assert finished.returncode != 0
    assert f"port {taken} (PORT) is taken" in finished.stderr
    assert not venv.exists()  # no virtualenv made, nothing installed or migrated


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """bin/run-server with the local Stripe's default port held by another program: the
    banner's lines, and the process (stopped afterwards with everything it started)."""
    tmp_path = tmp_path_factory.mktemp("run-server")
    app_port = free_port()
    log = tmp_path / "stderr.log"
    with listening(STRIPE_DEFAULT), log.open("w") as stderr:
        server = subprocess.Popen(["bash", "bin/run-server"], cwd=ROOT, text=True,
                                  stdout=subprocess.PIPE, stderr=stderr,
                                  env=run_env(tmp_path, PORT=str(app_port)),
                                  start_new_session=True)
        try:
            banner = _read_banner(server, log)
            yield {"app_port": app_port, "banner": banner, "process": server}
        finally:
            server.send_signal(signal.SIGTERM)  # its trap stops the stand-ins and gunicorn
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _read_banner(server, log: Path) -> list[str]:
    lines, rules = [], 0
    give_up = time.monotonic() + 120  # a hung start fails the test instead of hanging it
    while rules < 2 and time.monotonic() < give_up:
        line = server.stdout.readline()
        if not line:
            pytest.fail("bin/run-server ended before its banner: " + log.read_text()[-2000:])
        if line.startswith("====="):
            rules += 1
        elif rules == 1:
            lines.append(line.rstrip())
    return lines


def _address(banner: list[str], label: str) -> str:
    (line,) = [line for line in banner if line.strip().startswith(label)]
    return re.search(r"http://127\.0\.0\.1:\d+", line).group(0)


def test_run_server_serves_the_local_stripe_on_the_port_it_chose(served):
    stripe_base = _address(served["banner"], "local Stripe")
    port = int(stripe_base.rsplit(":", 1)[1])
    assert port not in {STRIPE_DEFAULT, served["app_port"]}
    assert any(f"note: port {STRIPE_DEFAULT} is taken" in line and f":{port} " in line
               for line in served["banner"])
    # The stand-in answers there like Stripe's API (any sk_ key).
    request = urllib.request.Request(f"{stripe_base}/v1/payment_intents",
                                     headers={"Authorization": "Bearer sk_test_local"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer)["object"] == "list"


def test_run_server_banner_lists_every_surface_on_the_port_asked_for(served):
    base = f"http://127.0.0.1:{served['app_port']}"
    text = "\n".join(served["banner"])
    for surface in (f"console        {base}/", f"storefront     {base}/shop/",
                    f"API docs       {base}/api/v1/docs", f"health         {base}/healthz",
                    "local PayPal   http://127.0.0.1:", "emails         written to ",
                    f"links in mail  {base}  (PUBLIC_BASE_URL)"):
        assert surface in text
    assert "RQ dashboard" not in text  # no REDIS_URL, no worker, no dashboard
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as answer:
        assert answer.status == 200
