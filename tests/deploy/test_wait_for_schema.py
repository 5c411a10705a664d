"""bin/wait-for-schema, the init container of every pod on Kubernetes: done at once when
the database is at the migrations' head, "not yet" for a database behind or unreachable."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for_schema(database_url: str, tmp_path: Path, *args: str):
    env = {key: value for key, value in os.environ.items()
           if key not in ("BOOKWELL_ENV", "DATABASE_URL")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="test-secret",
               JWT_SECRET_KEY="test-jwt-secret", BOOKWELL_INSTANCE_DIR=str(tmp_path))
    return subprocess.run([sys.executable, str(ROOT / "bin" / "wait-for-schema"), *args],
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_migrated_database_needs_no_wait(app, tmp_path):
    result = wait_for_schema(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, "--timeout=0")
    assert result.returncode == 0, result.stderr
    assert "the database is at" in result.stdout


def test_a_database_without_the_migrations_is_waited_for_until_the_timeout(tmp_path):
    result = wait_for_schema(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path,
                             "--timeout=0.2", "--interval=0.1")
    assert result.returncode == 1
    assert "the database is at no revision" in result.stdout
    assert "has the release Job run?" in result.stderr


def test_an_unreachable_database_is_not_yet_ready_rather_than_an_error(tmp_path):
    result = wait_for_schema("postgresql://bookwell@127.0.0.1:1/bookwell", tmp_path,
                             "--timeout=0")
    assert result.returncode == 1
    assert "unreachable (OperationalError)" in result.stderr
