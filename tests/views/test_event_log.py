"""The event log: admins read the outbox and replay events; provider staff get nothing."""
from __future__ import annotations

import pytest
from rq import SimpleWorker

from app import events, jobqueue
from app.extensions import db
from app.models import ConsumedEvent, OutboxEvent
from app.models.events import DONE, FAILED
from app.redis import redis_client
from tests import consumers
from tests.views.console import page_text, signed_in

RECORD = consumers.record
FLAKY = consumers.flaky
TOPIC = "test.console_event"


@pytest.fixture
def inline(app):
    """Events are delivered in-process (no Redis) unless a test says otherwise."""
    consumers.CALLS.clear()
    consumers.FAIL_TIMES["count"] = 0
    events.subscribe(TOPIC, RECORD)
    events.subscribe(TOPIC, FLAKY)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    yield
    app.config["REDIS_URL"] = saved
    events.unsubscribe(TOPIC, RECORD)
    events.unsubscribe(TOPIC, FLAKY)
    consumers.FAIL_TIMES["count"] = 0


def _publish(payload: dict, *, provider_id: int | None = None, fail: bool = False) -> str:
    consumers.FAIL_TIMES["count"] = 1 if fail else 0
    event_id = events.publish(TOPIC, payload, provider_id=provider_id)
    events.commit()
    return event_id


def _event(event_id: str) -> OutboxEvent:
    db.session.expire_all()
    return db.session.get(OutboxEvent, event_id)


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


# --- who may look -------------------------------------------------------------------------

def test_staff_are_refused_the_event_log(app, app_ctx, inline, tenant_a):
    own = _publish({"n": 1}, provider_id=tenant_a.provider_id, fail=True)
    staff = signed_in(app, tenant_a.staff_email)

    assert staff.get("/outboxeventview/list/").status_code == 403
    assert staff.get(f"/outboxeventview/show/{own}").status_code == 403
    assert staff.get("/consumedeventview/list/").status_code == 403
    replay = staff.post("/outboxeventview/action_post", data={"action": "replay",
                                                              "rowid": [own]})
    single = staff.post(f"/outboxeventview/action/replay/{own}")

    assert replay.status_code in (302, 403) and single.status_code in (302, 403)
    event = _event(own)
    assert (event.status, event.attempts) == (FAILED, 1)  # not replayed


def test_staff_cannot_replay_other_providers_events(app, app_ctx, inline, tenant_a, tenant_b):
    foreign = _publish({"n": 1}, provider_id=tenant_b.provider_id, fail=True)
    platform = _publish({"n": 2}, fail=True)
    staff = signed_in(app, tenant_a.staff_email)

    for event_id in (foreign, platform):
        response = staff.post("/outboxeventview/action_post",
                              data={"action": "replay", "rowid": [event_id]})
        assert response.status_code == 404
        assert _event(event_id).status == FAILED


def test_anonymous_is_sent_to_login(app, client):
    response = client.get("/outboxeventview/list/")

    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_menu_shows_the_platform_group_to_admins_only(app, tenant_a, admin_email):
    admin_page = page_text(signed_in(app, admin_email).get("/outboxeventview/list/"))
    staff_page = page_text(signed_in(app, tenant_a.staff_email).get("/bookingview/list/", follow_redirects=True))

    assert "Platform" in admin_page and "/outboxeventview/list/" in admin_page
    assert "Platform" not in staff_page and "/outboxeventview/list/" not in staff_page


# --- what admins see ----------------------------------------------------------------------

def test_admin_lists_events_with_their_delivery_state(app, app_ctx, inline, tenant_a,
                                                      tenant_b, admin_email):
    failed = _publish({"n": 1}, provider_id=tenant_a.provider_id, fail=True)
    done = _publish({"n": 2}, provider_id=tenant_b.provider_id)
    admin = signed_in(app, admin_email)

    page = admin.get("/outboxeventview/list/").get_data(as_text=True)
    only_failed = admin.get("/outboxeventview/list/?_flt_0_status=failed").get_data(
        as_text=True)

    assert page.count(TOPIC) >= 2 and FAILED in page and DONE in page
    assert "downstream unavailable" in page  # last_error
    assert f"/outboxeventview/show/{failed}" in only_failed
    assert f"/outboxeventview/show/{done}" not in only_failed


def test_admin_filters_by_topic(app, app_ctx, inline, admin_email):
    wanted = _publish({"n": 1})
    other = events.publish("test.other_topic", {"n": 2})
    events.commit()
    admin = signed_in(app, admin_email)

    page = admin.get(f"/outboxeventview/list/?_flt_3_topic={TOPIC}").get_data(as_text=True)

    assert f"/outboxeventview/show/{wanted}" in page
    assert f"/outboxeventview/show/{other}" not in page


def test_show_page_has_the_payload_as_pretty_json(app, app_ctx, inline, admin_email):
    event_id = _publish({"booking_reference": "BW-ABC234", "note": "<b>bold</b>",
                         "lines": [1, 2]})
    admin = signed_in(app, admin_email)

    response = admin.get(f"/outboxeventview/show/{event_id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<pre class="event-payload">' in page
    assert '&#34;booking_reference&#34;: &#34;BW-ABC234&#34;' in page or \
        '&quot;booking_reference&quot;: &quot;BW-ABC234&quot;' in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert '\n  "lines": [\n' in page.replace("&#34;", '"').replace("&quot;", '"')


def test_show_unknown_event_is_404(app, admin_email):
    admin = signed_in(app, admin_email)

    assert admin.get("/outboxeventview/show/no-such-event").status_code == 404


# --- replay -------------------------------------------------------------------------------

def test_admin_replays_a_failed_event(app, app_ctx, inline, admin_email):
    event_id = _publish({"n": 1}, fail=True)
    assert _event(event_id).status == FAILED
    admin = signed_in(app, admin_email)

    response = admin.post(f"/outboxeventview/action/replay/{event_id}")

    event = _event(event_id)
    assert response.status_code == 302
    assert (event.status, event.attempts, event.last_error) == (DONE, 2, None)
    assert sorted(call[1] for call in consumers.CALLS) == [f"flaky:{TOPIC}", TOPIC]
    assert ("success", f"Event {event_id[:8]} ({TOPIC}) replayed: done.") in _flashes(admin)


def test_admin_replays_several_events_and_consumers_run_once(app, app_ctx, inline,
                                                            admin_email):
    first = _publish({"n": 1}, fail=True)
    second = _publish({"n": 2}, fail=True)
    admin = signed_in(app, admin_email)

    admin.post("/outboxeventview/action_post", data={"action": "replay",
                                                     "rowid": [first, second]})
    admin.post("/outboxeventview/action_post", data={"action": "replay",
                                                     "rowid": [first, second]})

    assert _event(first).status == DONE and _event(second).status == DONE
    handled = [(call[0], call[1]) for call in consumers.CALLS]
    assert sorted(handled) == sorted([(first, TOPIC), (first, f"flaky:{TOPIC}"),
                                      (second, TOPIC), (second, f"flaky:{TOPIC}")])


def test_replay_with_redis_goes_to_the_events_queue(app, app_ctx, inline, admin_email):
    event_id = _publish({"n": 1}, fail=True)
    admin = signed_in(app, admin_email)
    # The app's Redis client is the run's (real Redis, or fakeredis); the URL only says
    # "Redis is configured".
    app.config["REDIS_URL"] = "redis://configured-for-this-test"

    admin.post(f"/outboxeventview/action/replay/{event_id}")

    assert _event(event_id).status not in (DONE, FAILED)  # handed to the workers
    [(category, message)] = _flashes(admin)
    assert category == "success" and message.startswith(f"Event {event_id[:8]} ({TOPIC})")
    assert jobqueue.get_queue("events").fetch_job(f"event-{event_id}") is not None
    SimpleWorker([jobqueue.get_queue("events")], connection=redis_client()).work(burst=True)
    assert _event(event_id).status == DONE


def test_consumed_events_list_for_admins(app, app_ctx, inline, admin_email):
    event_id = _publish({"n": 1})
    assert db.session.query(ConsumedEvent).filter_by(event_id=event_id).count() == 2
    admin = signed_in(app, admin_email)

    page = admin.get("/consumedeventview/list/").get_data(as_text=True)

    # The event by its short id (the whole id on hover), consumers by area and name.
    assert f'title="{event_id}">{event_id[:8]}</span>' in page
    assert "consumers: record" in page and "consumers: flaky" in page
    assert "tests.consumers.record" not in page
