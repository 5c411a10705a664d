"""Sign-ins an account can see and end: an API token pair (one session across its
refreshes), a shop session or a console session.

A session ends when its holder signs out, ends it from another device ("sign out" on its
row, or "sign out everywhere else"), or the password changes. An ended session's refresh
token and access tokens are refused (``accounts.is_token_revoked``) and its shop or
console session is signed out on its next request.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from user_agents import parse as parse_user_agent

from app.errors import NotFound
from app.extensions import db
from app.models import SignInSession
from app.models.types import utcnow
from app.services import audit
from app.services.transactions import unit_of_work

API, SHOP, CONSOLE = "api", "shop", "console"
KINDS = (API, SHOP, CONSOLE)
# "Last used" is written at most this often per session: not a write per request.
TOUCH_INTERVAL = timedelta(minutes=1)


def start(account_id: int, kind: str, *, user_agent: str = "", address: str | None = None,
          now: datetime | None = None) -> str:
    """Record a sign-in (in the caller's transaction, if one is open); its id."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    now = now or utcnow()
    session_id = secrets.token_hex(16)
    with unit_of_work(joins=True):
        db.session.add(SignInSession(
            id=session_id, account_id=account_id, kind=kind,
            device=describe_device(user_agent), address=(address or None) and address[:45],
            created_at=now, last_used_at=now))
        audit.record("account.signed_in", entity="account", entity_id=account_id,
                     changes={"kind": kind, "session": session_id})
    return session_id


def describe_device(user_agent: str) -> str:
    """"iPhone / iOS 17.0 / Mobile Safari 17.0"; what a program sent if no browser."""
    if not user_agent:
        return "Unknown device"
    parsed = parse_user_agent(user_agent)
    if parsed.browser.family == "Other" and parsed.os.family == "Other":
        return user_agent[:200]
    return str(parsed).replace("Other / ", "")[:200]


def is_ended(session_id: str) -> bool:
    row = db.session.get(SignInSession, session_id)
    return row is None or row.ended_at is not None


def touch(session_id: str, *, now: datetime | None = None) -> None:
    """Note that the session was used (at most once per ``TOUCH_INTERVAL``)."""
    now = now or utcnow()
    with unit_of_work(joins=True):
        db.session.execute(update(SignInSession).where(
            SignInSession.id == session_id, SignInSession.ended_at.is_(None),
            SignInSession.last_used_at < now - TOUCH_INTERVAL).values(last_used_at=now))


def active(account_id: int) -> list[SignInSession]:
    """The account's sessions still going, last used first."""
    return list(db.session.scalars(select(SignInSession).where(
        SignInSession.account_id == account_id, SignInSession.ended_at.is_(None))
        .order_by(SignInSession.last_used_at.desc(), SignInSession.created_at.desc())))


def end(account_id: int, session_id: str, *, missing_ok: bool = False,
        now: datetime | None = None) -> None:
    """End one of the account's own sessions; another's, or an ended one: 404 (nothing
    with ``missing_ok``: signing out twice is no error)."""
    with unit_of_work():
        row = db.session.get(SignInSession, session_id, with_for_update=True)
        if row is None or row.account_id != account_id or row.ended_at is not None:
            if missing_ok:
                return
            raise NotFound("session.not_found", "No such session of yours is going.")
        row.ended_at = now or utcnow()
        audit.record("account.signed_out", entity="account", entity_id=account_id,
                     changes={"kind": row.kind, "session": row.id})


def end_all(account_id: int, *, keep: str | None = None, reason: str = "signed_out_everywhere",
            now: datetime | None = None) -> int:
    """End every going session of the account but ``keep``; how many. Joins an open unit
    of work (a password reset ends them with the new password, all or nothing)."""
    with unit_of_work(joins=True):
        query = update(SignInSession).where(SignInSession.account_id == account_id,
                                            SignInSession.ended_at.is_(None))
        if keep:
            query = query.where(SignInSession.id != keep)
        ended = db.session.execute(query.values(ended_at=now or utcnow())).rowcount
        audit.record(f"account.{reason}", entity="account", entity_id=account_id,
                     changes={"sessions": ended})
    return ended
