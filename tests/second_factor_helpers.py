"""Two-factor sign-in in tests: a fixed clock, and an account with an authenticator set up."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp

from app.services import second_factor

# Half-way through a 30-second step, so the steps either side are whole steps away.
NOW = datetime(2026, 12, 5, 9, 0, 15, tzinfo=timezone.utc)


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def enrol(account_id: int, *, now: datetime = NOW) -> tuple[str, list[str]]:
    """Set up and confirm an authenticator for the account: (secret, recovery codes)."""
    enrolment = second_factor.begin_enrolment(account_id)
    codes = second_factor.confirm_enrolment(account_id, code_at(enrolment.secret, now),
                                            now=now)
    return enrolment.secret, codes


def fix_clock(monkeypatch, moment: datetime = NOW) -> None:
    """The service's clock stands still at ``moment`` (for requests, which pass no time)."""
    monkeypatch.setattr(second_factor, "utcnow", lambda: moment)
