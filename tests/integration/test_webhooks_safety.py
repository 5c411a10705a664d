"""Outbound request safety: a webhook never reaches a private, loopback or link-local
address unless the allow-list says so (checked after DNS resolution), and never follows
a redirect; addresses are checked when an endpoint is saved too."""
from __future__ import annotations

import ipaddress
import socket

import pytest
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.gateways import webhook_post
from app.gateways.outbound_address import address_allowed
from app.models import WebhookAttempt
from app.services import webhook_endpoints
from app.services.scopes import Scope
from tests.fakes.webhook_receiver import Answer
from tests.integration.webhook_support import (
    add_endpoint,
    delivery_row,
    endpoint_row,
    run_jobs,
    studio,
)


def _attempts(delivery_id):
    return list(db.session.scalars(select(WebhookAttempt).where(
        WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)))


def test_a_loopback_endpoint_is_refused_without_the_allow_list(app, build, receiver,
                                                               monkeypatch):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/inside")  # saved while allow-listed
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ())
    delivery = webhook_endpoints.send_test_event(endpoint_id, scope=Scope.of_provider(alpha))
    run_jobs(app)
    assert receiver.at("/inside") == []  # no request reached it
    row = delivery_row(delivery.id)
    assert row.status == "failed"  # not retried: the address will not become public
    (attempt,) = _attempts(delivery.id)
    assert attempt.response_status is None
    assert attempt.error.startswith("Refused address") and "127.0.0.1" in attempt.error
    assert endpoint_row(endpoint_id).consecutive_failures == 1


def test_a_host_name_resolving_inside_is_refused_after_resolution(app, receiver):
    """``localhost`` is a name; what it resolves to decides (here: the loopback)."""
    limits = webhook_post.PostLimits(allowed=())
    port = receiver.server_address[1]
    result = webhook_post.post(f"http://localhost:{port}/named", b"{}", message_id="msg_1",
                               secrets=[webhook_endpoints.new_secret()], limits=limits)
    assert result.kind == "refused" and result.status is None
    assert receiver.at("/named") == []

    def rebinding(host, port, **kwargs):  # one public and one inside address: refused
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    result = webhook_post.post("https://hooks.example/x", b"{}", message_id="msg_2",
                               secrets=[webhook_endpoints.new_secret()], limits=limits,
                               resolve=rebinding)
    assert result.kind == "refused" and "10.0.0.7" in result.error


def test_a_redirect_is_a_failed_attempt_and_is_never_followed(app, build, receiver):
    alpha = studio(build)
    inside = add_endpoint(receiver, alpha, "/to-metadata")
    receiver.answers["/to-metadata"] = Answer(
        status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    delivery = webhook_endpoints.send_test_event(inside, scope=Scope.of_provider(alpha))
    run_jobs(app)
    (attempt,) = _attempts(delivery.id)
    assert attempt.response_status == 302
    assert "redirects are not followed" in attempt.error
    assert "refused address" in attempt.error and "169.254.169.254" in attempt.error
    assert delivery_row(delivery.id).status == "failed"

    # even to an allowed address on the same receiver: not followed
    same = add_endpoint(receiver, alpha, "/moved")
    receiver.answers["/moved"] = Answer(status=307,
                                        headers={"Location": receiver.url("/new-home")})
    webhook_endpoints.send_test_event(same, scope=Scope.of_provider(alpha))
    run_jobs(app)
    assert len(receiver.at("/moved")) == 1 and receiver.at("/new-home") == []


def test_a_refused_connection_is_retried_in_words(app, build, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_FAILURES", 10_000)
    alpha = studio(build)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = webhook_endpoints.create_endpoint(
        scope=Scope.of_provider(alpha), url=f"http://127.0.0.1:{port}/closed", topics=["*"])
    delivery = webhook_endpoints.send_test_event(endpoint.id, scope=Scope.of_provider(alpha))
    run_jobs(app)
    (attempt,) = _attempts(delivery.id)
    assert attempt.error == "Connection refused."
    assert delivery_row(delivery.id).status == "pending"  # retried later


@pytest.mark.parametrize("url,problem", [
    ("http://127.0.0.1/hooks", "private or local network"),
    ("https://10.1.2.3/hooks", "private or local network"),
    ("https://[::1]/hooks", "private or local network"),
    ("https://169.254.169.254/latest", "private or local network"),
    ("https://localhost/hooks", "private or local network"),
    ("ftp://hooks.example/x", "http or https"),
    ("https://user:pw@hooks.example/x", "user name or password"),
    ("hooks.example/x", "http or https"),
    ("", "required"),
])
def test_an_inside_or_odd_address_is_refused_when_saved(app, build, url, problem):
    alpha = studio(build)
    with pytest.raises(ValidationFailed) as refused:
        webhook_endpoints.create_endpoint(scope=Scope.of_provider(alpha), url=url,
                                          topics=["booking.confirmed"])
    assert refused.value.code == "webhook_endpoint.invalid"
    assert problem in refused.value.errors["url"][0]
    assert webhook_endpoints.list_endpoints(scope=Scope.all_providers()) == []


def test_https_is_required_where_configured_unless_allow_listed(app, build, monkeypatch):
    alpha = studio(build)
    monkeypatch.setitem(app.config, "WEBHOOK_REQUIRE_HTTPS", True)
    with pytest.raises(ValidationFailed) as refused:
        webhook_endpoints.create_endpoint(scope=Scope.of_provider(alpha),
                                          url="http://hooks.example/x", topics=["*"])
    assert refused.value.errors["url"] == ["Use an https address."]
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ("hooks.example",))
    endpoint = webhook_endpoints.create_endpoint(scope=Scope.of_provider(alpha),
                                                 url="http://hooks.example/x", topics=["*"])
    assert endpoint.url == "http://hooks.example/x"


def test_the_shared_address_check_refuses_what_the_calendar_check_refused():
    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fc00::1",
                    "::ffff:127.0.0.1", "100.64.0.1"):
        assert not address_allowed(ipaddress.ip_address(address)), address
    assert address_allowed(ipaddress.ip_address("93.184.215.14"))
