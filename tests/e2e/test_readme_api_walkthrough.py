"""The README's API walkthrough, run as written: its shell block, with curl, against a
served app holding the demo data and the local Stripe stand-in, ends with the booking
confirmed. A README step that no longer matches the API fails here."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from app.extensions import db
from app.models import Offering
from app.services import demo
from tests.builders import PASSWORD

README = Path(__file__).resolve().parents[2] / "README.md"


def _walkthrough_script() -> str:
    text = README.read_text()
    section = text[text.index("### API walkthrough with curl"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_api_walkthrough_books_and_pays(live_server, app_ctx, tmp_path):
    demo.load_demo_data(PASSWORD)
    db.session.commit()
    script = _walkthrough_script()
    assert script.startswith("B=http://127.0.0.1:5000/api/v1\n")
    script = script.replace("B=http://127.0.0.1:5000/api/v1", f"B={live_server}/api/v1", 1)
    # What the last steps answer, for this test to read.
    script += '\ncurl -s $B/bookings/$REF -H "Authorization: Bearer $ACCESS" > booking.json\n'

    finished = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    booking = json.loads((tmp_path / "booking.json").read_text())
    assert booking["status"] == "confirmed"
    assert db.session.get(Offering, booking["offering_id"]).name == "Yin Yoga"

