"""Webhook endpoints through the provider API: the secret shown once, a delivery log with
every attempt, redelivery and test events; bad input answers 4xx in the documented shape
and changes nothing; another provider's endpoint or delivery, and the platform's, are never
found."""
from __future__ import annotations

import pytest

from app.models.webhooks import WebhookEndpoint
from app.services import webhook_endpoints
from app.services.scopes import Scope
from tests.fakes.webhook_receiver import Answer
from tests.helpers import assert_error_shape, bearer, token_for
from tests.integration.webhook_support import add_endpoint, run_jobs, studio

BASE = "/api/v1/provider/webhooks"


@pytest.fixture
def staff(app, build):
    """(provider id, request headers) of Alpha's and of Beta's staff."""
    alpha, beta = studio(build), studio(build, staff=(), name="Beta Gym")
    alpha_staff, beta_staff = build.staff(alpha), build.staff(beta)
    return {"alpha": (alpha, bearer(token_for(alpha_staff))),
            "beta": (beta, bearer(token_for(beta_staff)))}


def _create(client, headers, url, **extra):
    return client.post(BASE, json={"url": url, "topics": ["booking.confirmed"], **extra},
                       headers=headers)


def test_staff_create_list_change_and_remove_an_endpoint(app, client, staff, receiver):
    _, headers = staff["alpha"]
    created = _create(client, headers, receiver.url("/crm"), description="CRM")
    assert created.status_code == 201, created.json
    body = created.json
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40  # in full, this once
    assert body["topics"] == ["booking.confirmed"] and body["active"] is True

    listed = client.get(BASE, headers=headers).json
    assert [item["id"] for item in listed] == [body["id"]]
    assert listed[0]["secret"] == f"whsec_…{secret[-4:]}"  # masked everywhere else
    assert secret not in str(client.get(f"{BASE}/{body['id']}", headers=headers).json)

    changed = client.patch(f"{BASE}/{body['id']}", headers=headers,
                           json={"topics": ["*"], "ordered": True, "active": False})
    assert changed.status_code == 200, changed.json
    assert (changed.json["topics"], changed.json["ordered"], changed.json["active"]) == (
        ["*"], True, False)
    assert changed.json["disabled_reason"] == "Disabled by staff."
    again = client.patch(f"{BASE}/{body['id']}", headers=headers, json={"active": True})
    assert again.json["active"] is True and again.json["disabled_at"] is None

    rotated = client.post(f"{BASE}/{body['id']}/rotate-secret", headers=headers,
                          json={"overlap_hours": 2})
    assert rotated.status_code == 200
    assert rotated.json["secret"] != secret and rotated.json["secret"].startswith("whsec_")
    assert rotated.json["previous_secret_expires_at"] is not None

    assert client.delete(f"{BASE}/{body['id']}", headers=headers).status_code == 204
    assert client.get(BASE, headers=headers).json == []


def test_test_event_delivery_log_and_redelivery(app, client, staff, receiver):
    _, headers = staff["alpha"]
    endpoint = _create(client, headers, receiver.url("/log")).json
    receiver.secrets.append(endpoint["secret"])
    receiver.answers["/log"] = Answer(status=500, body=b"not today")
    sent = client.post(f"{BASE}/{endpoint['id']}/test", headers=headers)
    assert sent.status_code == 202 and sent.json["topic"] == "webhook.test"
    run_jobs(app)

    log = client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=headers)
    assert log.status_code == 200
    (delivery,) = log.json
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert client.get(f"{BASE}/{endpoint['id']}/deliveries?status=succeeded",
                      headers=headers).json == []
    detail = client.get(f"{BASE}/{endpoint['id']}/deliveries/{delivery['id']}",
                        headers=headers).json
    assert detail["payload"]["type"] == "webhook.test"
    (attempt,) = detail["attempt_log"]
    assert attempt["response_status"] == 500 and attempt["response_excerpt"] == "not today"
    assert attempt["error"] == "Answered 500 Internal Server Error."
    assert attempt["request_headers"]["webhook-id"] == delivery["message_id"]

    receiver.answers.pop("/log")
    again = client.post(f"{BASE}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver",
                        headers=headers)
    assert again.status_code == 202
    run_jobs(app)
    detail = client.get(f"{BASE}/{endpoint['id']}/deliveries/{delivery['id']}",
                        headers=headers).json
    assert detail["status"] == "succeeded" and len(detail["attempt_log"]) == 2
    assert all(item.verified for item in receiver.at("/log"))


@pytest.mark.parametrize("body,field", [
    ({"url": "https://hooks.example/x", "topics": ["booking.teleported"]}, "topics"),
    ({"url": "https://hooks.example/x", "topics": "booking.confirmed"}, "topics"),
    ({"url": "https://hooks.example/x", "topics": []}, "topics"),
    ({"url": "https://hooks.example/x", "topics": ["account.password_reset_requested"]},
     "topics"),
    ({"url": "http://127.0.0.1:9/x", "topics": ["*"]}, "url"),
    ({"url": "not an address", "topics": ["*"]}, "url"),
    ({"topics": ["*"]}, "url"),
    ({"url": "https://hooks.example/x", "topics": ["*"], "ordered": "yes"}, "ordered"),
    ({"url": "https://hooks.example/x", "topics": ["*"], "version": "9"}, "version"),
])
def test_bad_input_is_refused_in_the_documented_shape_and_changes_nothing(
        app, client, staff, body, field):
    _, headers = staff["alpha"]
    answer = client.post(BASE, json=body, headers=headers)
    error = assert_error_shape(answer, 422)
    assert field in str(error["errors"]), error
    assert client.get(BASE, headers=headers).json == []


def test_a_bad_change_changes_nothing(app, client, staff, receiver):
    _, headers = staff["alpha"]
    endpoint = _create(client, headers, receiver.url("/keep")).json
    for body in ({"topics": ["nope"]}, {"url": "ftp://x"}, {"description": "x" * 301},
                 {"topics": ["*"], "url": "http://10.0.0.1/x"}):
        assert_error_shape(client.patch(f"{BASE}/{endpoint['id']}", json=body,
                                        headers=headers), 422)
    assert_error_shape(client.post(f"{BASE}/{endpoint['id']}/rotate-secret",
                                   json={"overlap_hours": -1}, headers=headers), 422)
    after = client.get(f"{BASE}/{endpoint['id']}", headers=headers).json
    assert after["topics"] == ["booking.confirmed"] and after["url"] == receiver.url("/keep")
    assert after["secret"] == endpoint["secret"][:6] + "…" + endpoint["secret"][-4:]


def test_another_providers_and_the_platforms_endpoints_are_never_found(app, client, build,
                                                                       staff, receiver):
    alpha, alpha_headers = staff["alpha"]
    _, beta_headers = staff["beta"]
    endpoint = _create(client, alpha_headers, receiver.url("/alpha")).json
    receiver.secrets.append(endpoint["secret"])
    client.post(f"{BASE}/{endpoint['id']}/test", headers=alpha_headers)
    run_jobs(app)
    (delivery,) = client.get(f"{BASE}/{endpoint['id']}/deliveries",
                             headers=alpha_headers).json
    platform_id = add_endpoint(receiver, None, "/platform")

    for endpoint_id in (endpoint["id"], platform_id):
        paths = [f"{BASE}/{endpoint_id}", f"{BASE}/{endpoint_id}/deliveries",
                 f"{BASE}/{endpoint_id}/deliveries/{delivery['id']}"]
        for path in paths:
            assert_error_shape(client.get(path, headers=beta_headers), 404)
        assert_error_shape(client.patch(f"{BASE}/{endpoint_id}", json={"active": False},
                                        headers=beta_headers), 404)
        for action in ("test", "rotate-secret", f"deliveries/{delivery['id']}/redeliver"):
            assert_error_shape(client.post(f"{BASE}/{endpoint_id}/{action}", json={},
                                           headers=beta_headers), 404)
        assert_error_shape(client.delete(f"{BASE}/{endpoint_id}", headers=beta_headers), 404)
    # Alpha's staff do not see the platform's endpoint either, nor its deliveries.
    assert [item["id"] for item in client.get(BASE, headers=alpha_headers).json] == [
        endpoint["id"]]
    assert_error_shape(client.get(f"{BASE}/{platform_id}", headers=alpha_headers), 404)
    # A delivery id of Alpha's under Alpha's other endpoint: not found either.
    other = _create(client, alpha_headers, receiver.url("/other")).json
    assert_error_shape(client.get(f"{BASE}/{other['id']}/deliveries/{delivery['id']}",
                                  headers=alpha_headers), 404)
    # Nothing changed: Alpha's endpoint still active, the platform's still there.
    assert client.get(f"{BASE}/{endpoint['id']}", headers=alpha_headers).json["active"]
    assert len(webhook_endpoints.list_endpoints(scope=Scope.all_providers())) == 3
    assert webhook_endpoints.list_endpoints(scope=Scope.of_provider(alpha))[0].provider_id \
        == alpha
    assert alpha


def test_the_service_keeps_providers_apart(app, build, receiver):
    alpha, beta = studio(build), studio(build, staff=(), name="Beta")
    mine = add_endpoint(receiver, alpha, "/a")
    platform = add_endpoint(receiver, None, "/p")
    beta_scope = Scope.of_provider(beta)
    assert webhook_endpoints.list_endpoints(scope=beta_scope) == []
    for endpoint_id in (mine, platform):
        with pytest.raises(webhook_endpoints.NotFound):
            webhook_endpoints.get_endpoint(endpoint_id, scope=beta_scope)
        with pytest.raises(webhook_endpoints.NotFound):
            webhook_endpoints.send_test_event(endpoint_id, scope=beta_scope)
        with pytest.raises(webhook_endpoints.NotFound):
            webhook_endpoints.rotate_secret(endpoint_id, scope=beta_scope)
    with pytest.raises(webhook_endpoints.NotFound):
        webhook_endpoints.get_endpoint(platform, scope=Scope.of_provider(alpha))
    # a provider cannot make an endpoint for another, nor a platform one
    with pytest.raises(webhook_endpoints.NotFound):
        webhook_endpoints.create_endpoint(scope=beta_scope, provider_id=alpha,
                                          url=receiver.url("/x"), topics=["*"])
    made = webhook_endpoints.create_endpoint(scope=beta_scope, url=receiver.url("/b"),
                                             topics=["*"])
    assert made.provider_id == beta
    # admins see them all, the platform's included
    assert {e.provider_id for e in webhook_endpoints.list_endpoints(
        scope=Scope.all_providers())} == {alpha, beta, None}
    from app.extensions import db

    assert db.session.get(WebhookEndpoint, platform).provider_id is None


def test_customers_may_not_manage_webhooks(app, client, build):
    customer = build.customer()
    answer = client.get(BASE, headers=bearer(token_for(customer)))
    assert_error_shape(answer, 403)


def test_the_secret_never_reaches_the_audit_log(app, build, receiver):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditLog

    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/audited")
    rotated = webhook_endpoints.rotate_secret(endpoint_id, scope=Scope.of_provider(alpha))
    entries = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "webhook_endpoint")).all()
    assert {entry.action for entry in entries} >= {"webhook_endpoint.created",
                                                   "webhook_endpoint.secret_rotated"}
    text = str([entry.changes for entry in entries])
    assert rotated.secret not in text and receiver.secrets[0] not in text
    assert rotated.previous_secret not in text
