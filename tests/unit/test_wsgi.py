"""The production entry point freezes what start-up built, so full collections skip it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_wsgi_builds_the_app_and_freezes_the_start_up_objects(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "BOOKWELL_ENV")}
    env["BOOKWELL_INSTANCE_DIR"] = str(tmp_path)  # embedded mode, nothing left in the repo
    probe = ("import gc, wsgi; "
             "print(type(wsgi.app).__name__, gc.get_freeze_count() > 100_000)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["Flask", "True"]
