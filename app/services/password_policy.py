"""Which passwords an account may have: the one rule for registering, choosing a
password as a guest, and resetting.

Long enough, not absurdly long (hashing and the strength estimate cost time), and not
guessable: zxcvbn's estimate, which knows the common-password lists, dictionary words,
keyboard patterns, dates and the person's own email and name, must be at least "somewhat
guessable" (2 of 4).
"""
from __future__ import annotations

from zxcvbn import zxcvbn

from app.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 2


def check_password(password: str, *, email: str = "", names: tuple[str, ...] = ()) -> None:
    """Raise ``ValidationFailed`` (field ``password``) unless ``password`` may be used."""
    if len(password) < MIN_LENGTH:
        _refuse("account.password_too_short", "The password is too short.",
                f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        _refuse("account.password_too_long", "The password is too long.",
                f"Use at most {MAX_LENGTH} characters.")
    own = [value for value in (email, email.split("@")[0], *names) if value]
    estimate = zxcvbn(password, user_inputs=own)
    if estimate["score"] < MIN_SCORE:
        warning = estimate["feedback"].get("warning") or "This password is easy to guess."
        _refuse("account.password_too_weak", "The password is too easy to guess.",
                f"{warning} Add another word or two; uncommon words are better.")


def _refuse(code: str, message: str, detail: str) -> None:
    raise ValidationFailed(code, message, {"password": [detail]})
