"""The Webhooks screen (Integrations): endpoints added, edited and deleted through the
service, the secret shown once, a test event and a redelivery delivered to a local
receiver, rotation, disabling and enabling; refusals are errors on the form; another
provider's endpoint or delivery, and a platform endpoint, is a 404 to staff by any address,
with nothing changed."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services import webhook_endpoints
from app.services.scopes import Scope
from tests.fakes.webhook_receiver import Answer
from tests.integration.webhook_support import add_endpoint, deliveries_of, endpoint_row, run_jobs
from tests.views.console import page_text, signed_in

BASE = "/webhookendpointview"


def text_of(response) -> str:
    return html.unescape(page_text(response))


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _endpoints() -> list[WebhookEndpoint]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def _snapshot(endpoint_id: int) -> dict:
    row = endpoint_row(endpoint_id)
    return {key: getattr(row, key) for key in (
        "url", "description", "topics", "active", "ordered", "secret", "previous_secret",
        "disabled_at")}


def _delivery_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def _no_raw_values(page: str) -> None:
    """No ``None`` and no raw datetimes outside a payload (``<pre>``) as sent."""
    shown = re.sub(r"<pre.*?</pre>", "", page, flags=re.S)
    assert not re.search(r"(?<![_\w])None\b", shown)
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", shown)


# --- adding ----------------------------------------------------------------------------------

def test_staff_add_an_endpoint_and_see_its_secret_once(app, tenant_a, receiver):
    staff = signed_in(app, tenant_a.staff_email)
    form = text_of(staff.get(f"{BASE}/add"))
    for group in ("Bookings", "Payments", "Refunds", "Receipts", "Waiting list"):
        assert f"<strong>{group}</strong>" in form
    assert "Customer did not come" in form and "booking.no_show" in form
    assert "Deliver in order" in form and "one event at a time" in form
    assert 'name="provider_id"' not in form  # staff add for their own provider

    answer = staff.post(f"{BASE}/add", data={
        "url": receiver.url("/crm"), "description": "Bookings into our CRM",
        "topics": ["booking.confirmed", "booking.cancelled", "payment.succeeded"],
        "ordered": "y"})

    assert answer.status_code == 200
    [endpoint] = _endpoints()
    assert endpoint.provider_id == tenant_a.provider_id
    assert endpoint.topics == ["booking.confirmed", "booking.cancelled", "payment.succeeded"]
    assert endpoint.ordered is True and endpoint.description == "Bookings into our CRM"
    page = text_of(answer)
    assert endpoint.secret in page and "shown only now" in page
    assert "webhook-signature" in page and "webhook-timestamp" in page
    assert f'data-page="{BASE}/show/{endpoint.id}"' in page

    again = text_of(staff.get(f"{BASE}/show/{endpoint.id}"))
    assert endpoint.secret not in again and "shown only now" not in again
    assert webhook_endpoints.masked_secret(endpoint.secret) in again
    assert "One at a time, in the order the events happened" in again
    assert "Booking confirmed" in again and "Payment succeeded" in again
    _no_raw_values(again)

    listing = text_of(staff.get(f"{BASE}/list/"))
    assert receiver.url("/crm") in listing and "Bookings into our CRM" in listing
    assert "Booking confirmed, booking cancelled (1 more)" in listing
    assert "Active" in listing and "No deliveries yet" in listing
    assert endpoint.secret not in listing
    assert "<th>Provider</th>" not in listing  # all their own
    _no_raw_values(listing)


def test_a_whole_group_and_all_events_read_as_such(app, tenant_a, receiver):
    add_endpoint(receiver, tenant_a.provider_id, topics=[
        "payment.refunded", "payment.refund_failed", "receipt.generated",
        "waitlist.joined"])
    add_endpoint(receiver, tenant_a.provider_id, path="/all")
    listing = text_of(signed_in(app, tenant_a.staff_email).get(f"{BASE}/list/"))
    assert "All refund events, receipts (1 more)" in listing
    assert "All events, those added later too" in listing


@pytest.mark.parametrize(("data", "field_error"), [
    ({"url": "ftp://example.com/hooks", "topics": ["booking.confirmed"]},
     "An http or https address, e.g. https://example.com/hooks/bookwell"),
    ({"url": "http://localhost:8080/hooks", "topics": ["booking.confirmed"]},
     "The address leads to a private or local network."),
    ({"url": "https://10.1.2.3/hooks", "topics": ["booking.confirmed"]},
     "The address leads to a private or local network."),
    ({"url": "https://example.com/hooks", "topics": []},
     "Choose at least one event, or All events."),
    ({"url": "https://example.com/hooks", "topics": ["booking.exploded"]},
     "Unknown: booking.exploded."),
    ({"url": "", "topics": ["*"]}, "Type the address your system receives webhooks at."),
    ({"url": "https://example.com/hooks", "topics": ["*"], "description": "x" * 301},
     "Field cannot be longer than 300 characters."),
])
def test_bad_input_is_an_error_on_the_form_and_adds_nothing(app, tenant_a, data,
                                                            field_error):
    staff = signed_in(app, tenant_a.staff_email)
    answer = staff.post(f"{BASE}/add", data=data)
    assert answer.status_code == 200
    page = text_of(answer)
    assert field_error in page and "has-error" in page
    assert _endpoints() == []
    # What was typed is still there.
    if data["url"]:
        assert f'value="{data["url"]}"' in page


def test_too_many_endpoints_is_said_on_the_form(app, tenant_a, receiver):
    for n in range(webhook_endpoints.MAX_ENDPOINTS_PER_OWNER):
        add_endpoint(receiver, tenant_a.provider_id, path=f"/{n}")
    answer = signed_in(app, tenant_a.staff_email).post(
        f"{BASE}/add", data={"url": receiver.url("/one-more"), "topics": ["*"]})
    assert answer.status_code == 200
    assert "Remove one first (at most 20)." in text_of(answer)
    assert len(_endpoints()) == webhook_endpoints.MAX_ENDPOINTS_PER_OWNER


# --- editing -----------------------------------------------------------------------------------

def test_staff_edit_an_endpoint_and_errors_change_nothing(app, tenant_a, receiver):
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id, topics=["booking.confirmed"])
    staff = signed_in(app, tenant_a.staff_email)
    form = text_of(staff.get(f"{BASE}/edit/{endpoint_id}"))
    assert f'value="{receiver.url("/hooks")}"' in form
    assert re.search(r'value="booking.confirmed"[^>]*checked', form)

    before = _snapshot(endpoint_id)
    refused = staff.post(f"{BASE}/edit/{endpoint_id}", data={
        "url": "http://169.254.169.254/latest", "topics": ["booking.cancelled"]})
    assert refused.status_code == 200 and "has-error" in text_of(refused)
    assert _snapshot(endpoint_id) == before

    saved = staff.post(f"{BASE}/edit/{endpoint_id}", data={
        "url": receiver.url("/v2"), "description": "Second version",
        "topics": ["booking.cancelled", "waitlist.offered"]})
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"{BASE}/show/{endpoint_id}")
    after = _snapshot(endpoint_id)
    assert after["url"] == receiver.url("/v2") and after["description"] == "Second version"
    assert after["topics"] == ["booking.cancelled", "waitlist.offered"]
    assert after["ordered"] is False and after["secret"] == before["secret"]
    assert ("success", "Webhook endpoint saved.") in _flashes(staff)


# --- test events, failures, redelivery ----------------------------------------------------------

def test_a_test_event_is_delivered_and_its_attempt_shown(app, tenant_a, receiver):
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    sent = staff.post(f"{BASE}/test/{endpoint_id}")
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"{BASE}/show/{endpoint_id}#deliveries")
    run_jobs(app)

    [message] = receiver.at("/hooks")
    assert message.verified and message.json["type"] == "webhook.test"
    [delivery] = deliveries_of(endpoint_id)
    assert delivery.status == "succeeded"

    page = text_of(staff.get(f"{BASE}/show/{endpoint_id}"))
    row = page.split('class="webhook-delivery"', 1)[1].split("</tr>", 1)[0]
    assert "Test event" in row and "Succeeded" in row and "200" in row
    assert "(Europe/Berlin)" not in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", row)

    detail = text_of(staff.get(f"{BASE}/delivery/{endpoint_id}/{delivery.id}"))
    assert delivery.message_id in detail
    assert '"type": "webhook.test"' in detail  # the payload, indented
    assert "Answered 200" in detail and " ms" in detail
    assert "webhook-signature" in detail and "webhook-id" in detail  # request headers
    assert "ok" in detail  # the answer's body
    _no_raw_values(detail)

    listing = text_of(staff.get(f"{BASE}/list/"))
    assert "Succeeded" in listing and "No deliveries yet" not in listing


def test_a_failed_delivery_shows_its_error_and_is_redelivered(app, tenant_a, receiver):
    receiver.answers["/broken"] = Answer(status=400, body=b"unknown event type")
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id, path="/broken")
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"{BASE}/test/{endpoint_id}")
    run_jobs(app)
    [delivery] = deliveries_of(endpoint_id)
    assert delivery.status == "failed"

    failed = text_of(staff.get(f"{BASE}/show/{endpoint_id}?status=failed"))
    assert "Failed" in failed and "400" in failed
    assert "No failed deliveries" not in failed
    succeeded = text_of(staff.get(f"{BASE}/show/{endpoint_id}?status=succeeded"))
    assert "No succeeded deliveries." in succeeded

    detail = text_of(staff.get(f"{BASE}/delivery/{endpoint_id}/{delivery.id}"))
    assert "Answered 400" in detail and "Error answer:" in detail
    assert "unknown event type" in detail

    receiver.answers["/broken"] = Answer(status=204, body=b"")
    again = staff.post(f"{BASE}/redeliver/{endpoint_id}/{delivery.id}")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"{BASE}/delivery/{endpoint_id}/{delivery.id}")
    run_jobs(app)
    [delivery] = deliveries_of(endpoint_id)
    assert delivery.status == "succeeded" and delivery.attempts == 2
    first, second = receiver.at("/broken")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    detail = text_of(staff.get(f"{BASE}/delivery/{endpoint_id}/{delivery.id}"))
    assert detail.index("Answered 204") < detail.index("Answered 400")  # newest first


def test_a_failing_endpoint_says_since_when(app, tenant_a, receiver):
    receiver.answers["/down"] = Answer(status=503)
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id, path="/down")
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"{BASE}/test/{endpoint_id}")
    run_jobs(app)
    listing = text_of(staff.get(f"{BASE}/list/"))
    assert re.search(r"Failing since \d{4}-\d\d-\d\d \d\d:\d\d CES?T", listing)
    assert "1 failed attempt in a row" in listing
    page = text_of(staff.get(f"{BASE}/show/{endpoint_id}"))
    assert "retrying, next try" in page and "503" in page


# --- rotate, disable, enable, delete ------------------------------------------------------------

def test_rotating_shows_the_new_secret_once_and_keeps_the_old_for_the_overlap(
        app, tenant_a, receiver):
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id)
    old = endpoint_row(endpoint_id).secret
    staff = signed_in(app, tenant_a.staff_email)

    answer = staff.post(f"{BASE}/rotate/{endpoint_id}", data={"overlap_hours": "168"})

    assert answer.status_code == 200
    row = endpoint_row(endpoint_id)
    assert row.secret != old and row.previous_secret == old
    page = text_of(answer)
    assert row.secret in page and "The new signing secret" in page and old not in page
    assert re.search(r"The old one also signs until \d{4}-\d\d-\d\d \d\d:\d\d CES?T", page)
    shown = text_of(staff.get(f"{BASE}/show/{endpoint_id}"))
    assert row.secret not in shown
    assert f"The previous secret {webhook_endpoints.masked_secret(old)} also signs" in shown

    now = text_of(staff.post(f"{BASE}/rotate/{endpoint_id}", data={"overlap_hours": "0"}))
    row = endpoint_row(endpoint_id)
    assert row.previous_secret is None and row.secret in now
    assert "New signing secret made. The old one no longer signs." in now


def test_a_made_up_overlap_changes_nothing(app, tenant_a, receiver):
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id)
    before = _snapshot(endpoint_id)
    staff = signed_in(app, tenant_a.staff_email)
    answer = staff.post(f"{BASE}/rotate/{endpoint_id}", data={"overlap_hours": "9999"})
    assert answer.status_code == 302
    assert _snapshot(endpoint_id) == before
    assert ("warning", "Choose when the old secret stops signing.") in _flashes(staff)


def test_disable_and_enable(app, tenant_a, receiver):
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    assert staff.post(f"{BASE}/disable/{endpoint_id}").status_code == 302
    assert endpoint_row(endpoint_id).active is False
    listing = text_of(staff.get(f"{BASE}/list/"))
    assert re.search(r"Disabled by staff since \d{4}-\d\d-\d\d \d\d:\d\d CES?T", listing)

    refused = staff.post(f"{BASE}/test/{endpoint_id}")
    assert refused.status_code == 302 and _delivery_count() == 0
    assert ("warning", "No test event sent: The endpoint is disabled; enable it first.") \
        in _flashes(staff)
    page = text_of(staff.get(f"{BASE}/show/{endpoint_id}"))
    assert 'id="enable-endpoint"' in page and 'id="disable-endpoint"' not in page
    other = add_endpoint(receiver, tenant_a.provider_id, path="/other")
    active_only = staff.get(f"{BASE}/list/?_flt_0_active=y")
    assert active_only.status_code == 200
    assert receiver.url("/other") in text_of(active_only)
    assert receiver.url("/hooks") not in text_of(active_only)
    webhook_endpoints.delete_endpoint(other, scope=Scope.of_provider(tenant_a.provider_id))

    assert staff.post(f"{BASE}/enable/{endpoint_id}").status_code == 302
    row = endpoint_row(endpoint_id)
    assert row.active is True and row.disabled_at is None
    assert "Active" in text_of(staff.get(f"{BASE}/list/"))


def test_delete_asks_first(app, tenant_a, receiver):
    endpoint_id = add_endpoint(receiver, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"{BASE}/test/{endpoint_id}")
    run_jobs(app)

    asked = text_of(staff.get(f"{BASE}/delete/{endpoint_id}"))
    assert "Its delivery log goes too" in asked and 'id="confirm-delete"' in asked
    assert len(_endpoints()) == 1

    done = staff.post(f"{BASE}/delete/{endpoint_id}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{BASE}/list/")
    assert _endpoints() == [] and _delivery_count() == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0


# --- tenancy -------------------------------------------------------------------------------------

def test_staff_never_reach_another_providers_or_the_platforms_endpoints(
        app, tenant_a, tenant_b, receiver):
    theirs = add_endpoint(receiver, tenant_b.provider_id, path="/beta", description="Beta CRM")
    platform = add_endpoint(receiver, None, path="/platform", description="Platform feed")
    webhook_endpoints.send_test_event(theirs, scope=Scope.of_provider(tenant_b.provider_id))
    run_jobs(app)
    [delivery] = deliveries_of(theirs)
    before = {theirs: _snapshot(theirs), platform: _snapshot(platform)}
    received = len(receiver.received)

    staff = signed_in(app, tenant_a.staff_email)
    listing = text_of(staff.get(f"{BASE}/list/"))
    assert "Beta CRM" not in listing and "/beta" not in listing
    assert "Platform feed" not in listing and "/platform" not in listing

    for endpoint_id in (theirs, platform):
        for path in (f"/show/{endpoint_id}", f"/edit/{endpoint_id}", f"/delete/{endpoint_id}"):
            assert staff.get(BASE + path).status_code == 404, path
        for path, data in ((f"/edit/{endpoint_id}", {"url": receiver.url("/x"),
                                                     "topics": ["*"]}),
                           (f"/delete/{endpoint_id}", {}), (f"/test/{endpoint_id}", {}),
                           (f"/rotate/{endpoint_id}", {"overlap_hours": "0"}),
                           (f"/disable/{endpoint_id}", {}), (f"/enable/{endpoint_id}", {})):
            assert staff.post(BASE + path, data=data).status_code == 404, path
    assert staff.get(f"{BASE}/delivery/{theirs}/{delivery.id}").status_code == 404
    assert staff.post(f"{BASE}/redeliver/{theirs}/{delivery.id}").status_code == 404
    # Their delivery under an endpoint of one's own is no way in either.
    mine = add_endpoint(receiver, tenant_a.provider_id, path="/alpha")
    assert staff.get(f"{BASE}/delivery/{mine}/{delivery.id}").status_code == 404
    assert staff.post(f"{BASE}/redeliver/{mine}/{delivery.id}").status_code == 404
    # Ids past the column's range are plain 404s.
    assert staff.get(f"{BASE}/show/99999999999").status_code == 404
    assert staff.get(f"{BASE}/delivery/{mine}/99999999999").status_code == 404
    for path in ("/show/abc", "/edit/abc", "/delete/-1", f"/delivery/{mine}/x1",
                 "/delivery/abc/1"):
        assert staff.get(BASE + path).status_code == 404, path
    for path in ("/test/abc", "/rotate/1e3", f"/redeliver/{mine}/abc", "/enable/%20"):
        assert staff.post(BASE + path).status_code == 404, path

    run_jobs(app)
    assert {theirs: _snapshot(theirs), platform: _snapshot(platform)} == before
    assert len(receiver.received) == received
    assert [d.attempts for d in deliveries_of(theirs)] == [1]


def test_admins_see_every_endpoint_and_add_a_platform_one(app, tenant_a, admin_email,
                                                          receiver):
    add_endpoint(receiver, tenant_a.provider_id, description="Alpha CRM")
    admin = signed_in(app, admin_email)
    form = text_of(admin.get(f"{BASE}/add"))
    assert "Platform-wide: every provider's events" in form and "Alpha Spa" in form

    answer = admin.post(f"{BASE}/add", data={"url": receiver.url("/platform"),
                                             "topics": ["*"], "provider_id": ""})
    assert answer.status_code == 200
    platform = [e for e in _endpoints() if e.provider_id is None]
    assert len(platform) == 1 and platform[0].secret in text_of(answer)
    assert "Times in UTC" in text_of(admin.get(f"{BASE}/show/{platform[0].id}"))

    admin.post(f"{BASE}/add", data={"url": receiver.url("/alpha2"), "topics": ["*"],
                                    "provider_id": str(tenant_a.provider_id)})
    assert sum(e.provider_id == tenant_a.provider_id for e in _endpoints()) == 2

    listing = text_of(admin.get(f"{BASE}/list/"))
    assert "<th>Provider</th>" in listing
    assert "Alpha CRM" in listing and "Alpha Spa" in listing
    assert "<td data-label=\"Provider\">Platform-wide</td>" in listing

    unknown = admin.post(f"{BASE}/add", data={"url": receiver.url("/x"), "topics": ["*"],
                                              "provider_id": "987654"})
    assert unknown.status_code == 200 and "No provider with id 987654." in text_of(unknown)
    assert len(_endpoints()) == 3
