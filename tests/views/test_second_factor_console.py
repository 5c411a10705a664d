"""Two-factor sign-in in the console: setting it up on one's own page, signing in with
password and code (wrong, replayed, too many, rate-limited, recovery code), admins held on
the set-up page when it is required, an admin's audited reset, and staff kept out of it."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.services import second_factor
from app.services.accounts import find_user_by_email
from tests.helpers import console_login
from tests.second_factor_helpers import NOW, code_at, enrol, fix_clock, later
from tests.views.console import console_client, is_signed_in, signed_in
from views.console_sign_in import PENDING_KEY

SETUP = "/account/two-factor/"


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def _waiting_for_code(client, email, next_path=None):
    path = "/login/" + (f"?next={next_path}" if next_path else "")
    response = client.post(path, data={"username": email, "password": "correct-horse-battery"})
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert not is_signed_in(client)
    return client


def test_staff_set_up_two_factor_sign_in_from_their_own_page(app, build, tenant_a,
                                                             monkeypatch):
    fix_clock(monkeypatch)
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(SETUP).get_data(as_text=True)
    assert "Off" in page and "Set up an authenticator app" in page
    assert staff.post(SETUP + "start").status_code == 302
    page = staff.get(SETUP)
    text = page.get_data(as_text=True)
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    assert "<svg" in text and 'class="qr-code"' in text  # drawn inline, no image service
    assert page.headers["Cache-Control"] == "no-store"

    wrong = staff.post(SETUP + "confirm", data={"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    done = staff.post(SETUP + "confirm", data={"code": code_at(secret, NOW)})

    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>",
                       done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert "shown only this once" in done.get_data(as_text=True)
    assert second_factor.is_enabled(tenant_a.staff_id)
    again = staff.get(SETUP).get_data(as_text=True)
    assert codes[0] not in again and "Recovery codes left" in again
    assert [e.actor_id for e in _audit("account.second_factor_enabled")] == [tenant_a.staff_id]


def test_sign_in_asks_for_the_code_after_the_password(app, build, tenant_a, monkeypatch):
    secret, _ = enrol(tenant_a.staff_id)
    fix_clock(monkeypatch, later(30))
    client = _waiting_for_code(console_client(app), tenant_a.staff_email, "/bookingview/list/")

    assert client.get("/providerview/list/").status_code == 302  # not signed in yet
    assert client.get("/login/code").status_code == 200
    response = client.post("/login/code", data={"code": code_at(secret, later(30))})

    assert response.status_code == 302 and response.location.endswith("/bookingview/list/")
    assert is_signed_in(client)
    with client.session_transaction() as session:
        assert PENDING_KEY not in session
    [signed_in_entry] = _audit("account.signed_in")
    assert signed_in_entry.entity_id == str(tenant_a.staff_id)
    assert signed_in_entry.changes["kind"] == "console"


def test_a_wrong_or_replayed_code_is_refused(app, build, tenant_a, monkeypatch):
    secret, _ = enrol(tenant_a.staff_id)
    fix_clock(monkeypatch)
    client = _waiting_for_code(console_client(app), tenant_a.staff_email)

    wrong = client.post("/login/code", data={"code": "123456"})
    replayed = client.post("/login/code", data={"code": code_at(secret, NOW)})  # confirmed with

    assert wrong.status_code == replayed.status_code == 422
    assert "not right" in wrong.get_data(as_text=True)
    assert not is_signed_in(client)
    reasons = [e.changes["reason"] for e in _audit("account.sign_in_failed")]
    assert reasons == ["wrong_second_factor"] * 2


def test_a_recovery_code_signs_in_once(app, build, tenant_a):
    _, codes = enrol(tenant_a.staff_id)
    first = _waiting_for_code(console_client(app), tenant_a.staff_email)
    assert first.post("/login/code", data={"code": codes[3]}).status_code == 302
    assert is_signed_in(first)

    second = _waiting_for_code(console_client(app), tenant_a.staff_email)
    assert second.post("/login/code", data={"code": codes[3]}).status_code == 422
    assert not is_signed_in(second)


def test_five_wrong_codes_end_the_sign_in_and_more_are_rate_limited(app, build, tenant_a):
    enrol(tenant_a.staff_id)
    client = _waiting_for_code(console_client(app), tenant_a.staff_email)

    answers = [client.post("/login/code", data={"code": "000000"}).status_code
               for _ in range(5)]
    assert answers == [422, 422, 422, 422, 302]  # the fifth sends back to the password
    ended = client.get("/login/code")
    assert ended.status_code == 302 and "/login/" in ended.location
    assert client.post("/login/code", data={"code": "000000"}).status_code == 429
    assert not is_signed_in(client)


def test_a_waiting_sign_in_ends_after_five_minutes(app, build, tenant_a, monkeypatch):
    secret, _ = enrol(tenant_a.staff_id)
    fix_clock(monkeypatch, later(30))
    client = _waiting_for_code(console_client(app), tenant_a.staff_email)
    with client.session_transaction() as session:
        session[PENDING_KEY] = {**session[PENDING_KEY], "since": int(time.time()) - 301}

    response = client.post("/login/code", data={"code": code_at(secret, later(30))})

    assert response.status_code == 302 and "/login/" in response.location
    assert not is_signed_in(client)


def test_the_code_page_without_a_password_first_sends_to_sign_in(app):
    client = console_client(app)
    assert client.get("/login/code").status_code == 302
    assert client.post("/login/code", data={"code": "123456"}).status_code == 302
    assert not is_signed_in(client)


def test_staff_without_two_factor_sign_in_with_the_password_alone(app, tenant_a):
    client = console_client(app)
    response = console_login(client, tenant_a.staff_email)
    assert response.status_code == 302 and not response.location.endswith("/login/code")
    assert is_signed_in(client)


@pytest.fixture
def two_factor_required(app):
    app.config["CONSOLE_REQUIRE_2FA"] = True
    yield
    app.config["CONSOLE_REQUIRE_2FA"] = False


def test_an_admin_who_must_have_it_is_held_on_the_set_up_page(app, build, admin_email,
                                                                tenant_a, monkeypatch,
                                                                two_factor_required):
    fix_clock(monkeypatch)
    admin = signed_in(app, admin_email)

    for path in ("/", "/providerview/list/", "/users/list/", "/auditlogview/list/"):
        response = admin.get(path)
        assert response.status_code == 302 and response.location.endswith(SETUP), path
    assert admin.get(SETUP).status_code == 200
    assert "Admins must use two-factor sign-in" in admin.get(SETUP).get_data(as_text=True)
    staff = signed_in(app, tenant_a.staff_email)  # optional for staff
    assert staff.get("/providerview/list/").status_code == 200

    admin.post(SETUP + "start")
    text = admin.get(SETUP).get_data(as_text=True)
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    assert admin.post(SETUP + "confirm", data={"code": code_at(secret, NOW)}).status_code == 200
    assert admin.get("/providerview/list/").status_code == 200


def test_an_admin_resets_a_users_second_factor(app, build, tenant_a, admin_email):
    enrol(tenant_a.staff_id)
    admin = signed_in(app, admin_email)

    users = admin.get("/users/list/").get_data(as_text=True)
    assert "2FA" in users and ">On<" in users.replace(" ", "").replace("\n", "")
    show = admin.get(f"/users/show/{tenant_a.staff_id}").get_data(as_text=True)
    assert "Reset second factor" in show
    confirm = admin.get(f"/users/two-factor/reset/{tenant_a.staff_id}")
    assert confirm.status_code == 200
    assert "two-factor sign-in is <strong>on</strong>" in confirm.get_data(as_text=True)

    done = admin.post(f"/users/two-factor/reset/{tenant_a.staff_id}")

    assert done.status_code == 302
    assert not second_factor.is_enabled(tenant_a.staff_id)
    [entry] = _audit("account.second_factor_reset")
    assert entry.entity_id == str(tenant_a.staff_id)
    assert entry.actor_id == find_user_by_email(admin_email).id
    client = console_client(app)
    assert console_login(client, tenant_a.staff_email).status_code == 302
    assert is_signed_in(client)  # the password alone, until a new app is set up


def test_the_users_list_action_leads_to_the_confirmation(app, tenant_a, admin_email):
    admin = signed_in(app, admin_email)

    one = admin.post("/users/action_post", data={"action": "reset_second_factor",
                                                 "rowid": [str(tenant_a.staff_id)]})
    two = admin.post("/users/action_post", data={"action": "reset_second_factor",
                                                 "rowid": [str(tenant_a.staff_id), "1"]})

    assert one.status_code == 302
    assert one.location.endswith(f"/users/two-factor/reset/{tenant_a.staff_id}")
    assert two.status_code == 302 and two.location.endswith("/users/list/")


def test_staff_cannot_reset_anyones_second_factor(app, build, tenant_a, tenant_b):
    colleague = build.staff(tenant_a.provider_id)
    enrol(colleague)
    enrol(tenant_b.staff_id)
    staff = signed_in(app, tenant_a.staff_email)

    for target in (colleague, tenant_b.staff_id):
        assert staff.get(f"/users/two-factor/reset/{target}").status_code in (403, 404)
        assert staff.post(f"/users/two-factor/reset/{target}").status_code in (403, 404)
    assert staff.get(f"/users/show/{tenant_b.staff_id}").status_code in (302, 403, 404)
    assert second_factor.is_enabled(colleague) and second_factor.is_enabled(tenant_b.staff_id)
    assert _audit("account.second_factor_reset") == []


def test_an_admin_reset_of_no_such_user_is_a_404(app, admin_email):
    admin = signed_in(app, admin_email)
    assert admin.get("/users/two-factor/reset/999999").status_code == 404
    assert admin.post("/users/two-factor/reset/99999999999").status_code == 404


def test_turning_it_off_and_new_recovery_codes_need_a_code(app, build, tenant_a, monkeypatch):
    secret, old_codes = enrol(tenant_a.staff_id)
    fix_clock(monkeypatch, later(30))
    staff = console_client(app)
    _waiting_for_code(staff, tenant_a.staff_email)
    staff.post("/login/code", data={"code": old_codes[0]})
    assert is_signed_in(staff)

    refused = staff.post(SETUP + "recovery-codes", data={"code": "000000"})
    assert refused.status_code == 422
    renewed = staff.post(SETUP + "recovery-codes", data={"code": code_at(secret, later(30))})
    assert renewed.status_code == 200
    assert len(re.findall(r"<li><code>", renewed.get_data(as_text=True))) == 10

    fix_clock(monkeypatch, later(60))
    assert staff.post(SETUP + "disable", data={"disable_code": "000000"}).status_code == 422
    off = staff.post(SETUP + "disable", data={"disable_code": code_at(secret, later(60))})
    assert off.status_code == 302 and not second_factor.is_enabled(tenant_a.staff_id)
    actions = [e.action for e in db.session.scalars(select(AuditLog).where(
        AuditLog.action.like("account.second_factor%")).order_by(AuditLog.id))]
    assert actions[-3:] == ["account.second_factor_recovery_code_used",
                            "account.second_factor_recovery_codes_renewed",
                            "account.second_factor_disabled"]


def test_the_user_menu_links_to_two_factor_sign_in(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    assert f'href="{SETUP}"' in staff.get("/").get_data(as_text=True)


def test_the_shops_sign_in_is_no_way_around_the_code(app, build, tenant_a):
    from app.extensions import db as database
    from app.models import Account
    from app.services.roles import CUSTOMER

    staff = database.session.get(Account, tenant_a.staff_id)
    staff.roles.append(app.appbuilder.sm.find_role(CUSTOMER))  # staff who also shop
    database.session.commit()
    enrol(tenant_a.staff_id)
    client = console_client(app)

    response = client.post("/shop/login", data={"email": tenant_a.staff_email,
                                                "password": "correct-horse-battery"})

    assert response.status_code == 401 and not is_signed_in(client)
    assert client.get("/providerview/list/").status_code == 302
