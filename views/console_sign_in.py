"""The console's sign-in after the first factor (a right password, or another way in):
straight in, or first the second factor's code.

:func:`finish_first_factor` is the one step every console sign-in ends with. The code page
(``/login/code``) finishes a sign-in that waits for a code; :func:`require_enrolment` keeps
an admin who must have a second factor and has none on the page that sets one up.
"""
from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.utils.base import get_safe_redirect
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.services import second_factor

PENDING_KEY = "sign_in_waiting_for_code"
PENDING_SECONDS = 5 * 60  # how long the code page waits after the password
MAX_WRONG_CODES = 5  # then the sign-in starts again from the password
CODE_RATE_LIMIT = "5 per minute"


def finish_first_factor(account, next_url: str | None = None) -> Response:
    """Finish a console sign-in whose first factor is proven (the password form; also any
    other way in, such as an identity provider's callback), and answer the browser.

    ``account`` is the ``Account`` (active, with a console role) that proved itself.
    ``next_url`` is where to go afterwards; by default the request's ``?next=`` (checked
    to stay on this site), else the console's home.

    - With a confirmed second factor, nobody is signed in yet: a pending sign-in (the
      account id and the time, for ``PENDING_SECONDS``) is kept in the session and the
      answer is a redirect to the code page (``/login/code``), which signs in once a code
      or recovery code is right.
    - Otherwise the account is signed in (Flask-Login's ``login_user``, which records the
      console sign-in session and audits ``account.signed_in``) and the answer is a
      redirect to ``next_url``. An admin who must have a second factor
      (``CONSOLE_REQUIRE_2FA``) and has none is then held on the page that sets one up
      (:func:`require_enrolment`).
    """
    next_url = safe_next(next_url if next_url is not None else request.args.get("next"))
    if second_factor.is_enabled(account.id):
        session[PENDING_KEY] = {"account_id": account.id, "since": int(time.time()),
                                "wrong": 0, "next": next_url}
        return redirect(url_for("SecondFactorSignInView.code"))
    session.pop(PENDING_KEY, None)
    login_user(account, remember=False)
    return redirect(next_url)


def safe_next(url: str | None) -> str:
    """``url`` if it stays on this site, else the console's home."""
    return get_safe_redirect(url) if url else current_app.appbuilder.get_url_for_index


def _pending() -> dict | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    return pending


def _code_rate_limit() -> str:
    return current_app.config.get("SECOND_FACTOR_RATE_LIMIT", CODE_RATE_LIMIT)


class SecondFactorSignInView(BaseView):
    """The second step of a console sign-in: the code from the authenticator app, or a
    recovery code. Open to all (nobody is signed in yet); it acts only on the pending
    sign-in in the session."""

    route_base = "/login"
    default_view = "code"

    @expose("/code", methods=["GET", "POST"])
    @limiter.limit(_code_rate_limit, methods=["POST"])
    def code(self):
        login_page = url_for(self.appbuilder.sm.auth_view.endpoint + ".login")
        pending = _pending()
        if pending is None:
            flash("Your sign-in took too long or was not started. Sign in again.", "warning")
            return redirect(login_page)
        error = None
        if request.method == "POST":
            account = second_factor.account_for_sign_in(int(pending["account_id"]))
            if account is None:
                session.pop(PENDING_KEY, None)
                return redirect(login_page)
            if second_factor.verify(account.id, request.form.get("code", "")):
                session.pop(PENDING_KEY, None)
                login_user(account, remember=False)
                return redirect(safe_next(pending.get("next")))
            pending["wrong"] = pending.get("wrong", 0) + 1
            if pending["wrong"] >= MAX_WRONG_CODES:
                session.pop(PENDING_KEY, None)
                flash("Too many wrong codes. Sign in again with your password.", "danger")
                return redirect(login_page)
            session[PENDING_KEY] = pending
            error = ("That code is not right, or was used already. Enter the code your "
                     "app shows now, or an unused recovery code.")
        return self.render_template(
            "console/login_code.html", title="Two-factor sign-in", error=error,
            login_page=login_page), 422 if error else 200


# Where an admin who must set up a second factor may still go.
_OPEN_DURING_ENROLMENT = {"SecondFactorView.status", "SecondFactorView.start",
                          "SecondFactorView.confirm"}


def require_enrolment():
    """Before every console request: an admin signed in without the second factor they
    must have is sent to set one up (signing out stays possible)."""
    if request.endpoint is None or request.path.startswith(("/api/", "/shop", "/static")):
        return None
    if request.endpoint in _OPEN_DURING_ENROLMENT or request.endpoint.endswith(
            (".logout", "static")) or request.endpoint == "static":
        return None
    if not current_app.config.get("CONSOLE_REQUIRE_2FA"):
        return None
    user = current_user
    if not getattr(user, "is_authenticated", False) or not second_factor.required_for(user):
        return None
    if second_factor.is_enabled(user.id):
        return None
    flash("Admins must use two-factor sign-in. Set up an authenticator app to continue.",
          "warning")
    return redirect(url_for("SecondFactorView.status"))
