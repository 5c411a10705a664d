"""Password hashes: the one way a password is stored and checked.

The method is Flask-AppBuilder's setting ``FAB_PASSWORD_HASH_METHOD`` (scrypt unless set),
so the accounts this code stores and those Flask-AppBuilder's own screens store are hashed
alike. The test suite sets a cheap method: scrypt costs about 0.1 s per hash and per check
by design, which is most of what a test that signs someone in would spend.
"""
from __future__ import annotations

from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

DEFAULT_METHOD = "scrypt"  # Flask-AppBuilder's and werkzeug's default


def _method() -> str:
    return current_app.config.get("FAB_PASSWORD_HASH_METHOD", DEFAULT_METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(
        password, method=_method(),
        salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))


def password_matches(stored_hash: str, password: str) -> bool:
    return check_password_hash(stored_hash, password)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def spend_a_check(password: str) -> None:
    """Take as long as a real check, so a missing account cannot be told apart by timing."""
    check_password_hash(_dummy_hash(_method()), password)
