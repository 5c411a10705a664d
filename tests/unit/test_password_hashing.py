"""Passwords are stored with the configured method: scrypt unless set (the suite sets a
cheap one, see tests/conftest.py)."""
from __future__ import annotations

from flask import Flask

from app.services import password_hashing
from config import Config


def test_a_deployment_hashes_with_scrypt_unless_told_otherwise(tmp_path, monkeypatch):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    app = Flask(__name__)
    app.config.from_object(Config({}))
    with app.app_context():
        stored = password_hashing.hash_password("correct-horse-battery")
    assert stored.startswith("scrypt:")
    assert password_hashing.password_matches(stored, "correct-horse-battery")
    assert not password_hashing.password_matches(stored, "correct-horse-battery!")


def test_the_setting_chooses_the_method_and_each_hash_has_its_own_salt(app_ctx):
    first = password_hashing.hash_password("s3cret-enough")
    second = password_hashing.hash_password("s3cret-enough")
    assert first.startswith("pbkdf2:sha256:1$") and first != second
    assert password_hashing.password_matches(second, "s3cret-enough")
    password_hashing.spend_a_check("whatever")  # answers nothing, raises nothing
