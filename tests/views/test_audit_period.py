"""The audit log's period filter is in view, reads dates on the staff's wall clock, and an
entry's changes read as "field: before → after"."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from app.extensions import db
from app.models import AuditLog
from tests.views.console import audit_entry, page_text, signed_in


def _dated(provider_id: int, action: str, when: datetime) -> None:
    entry = db.session.get(AuditLog, audit_entry(provider_id, action))
    entry.created_at = when
    db.session.commit()


def test_the_period_form_is_in_view_with_quick_links(app, tenant_a):
    page = page_text(signed_in(app, tenant_a.staff_email).get("/auditlogview/list/"))

    assert re.search(r'<input type="date"[^>]*name="_flt_0_created_at"', page)
    assert re.search(r'<input type="date"[^>]*name="_flt_1_created_at"', page)
    assert "Dates in Europe/Berlin" in page
    for label in ("Today", "Last 7 days", "Last 30 days", "All time"):
        assert f">{label}</a>" in page


def test_a_period_is_read_on_the_providers_clock(app, tenant_a):
    # 23:30 UTC on 14 January is 00:30 on 15 January in Berlin.
    _dated(tenant_a.provider_id, "test.late_evening_utc",
           datetime(2031, 1, 14, 23, 30, tzinfo=timezone.utc))
    _dated(tenant_a.provider_id, "test.day_before",
           datetime(2031, 1, 14, 12, 0, tzinfo=timezone.utc))
    staff = signed_in(app, tenant_a.staff_email)

    page = page_text(staff.get(
        "/auditlogview/list/?_flt_0_created_at=2031-01-15&_flt_1_created_at=2031-01-16"))

    assert "test.late_evening_utc" in page and "test.day_before" not in page
    assert 'value="2031-01-15"' in page and 'value="2031-01-16"' in page
    assert "1 audit entry" in page


def test_changes_read_as_before_and_after(app, tenant_a, admin_email):
    entry = db.session.get(AuditLog, audit_entry(tenant_a.provider_id, "test.changed"))
    entry.changes = {"active": [True, False], "status": ["pending", "confirmed"],
                     "starts_at": "2031-01-15T09:00:00.123456", "note": None}
    db.session.commit()
    admin = signed_in(app, admin_email)

    page = page_text(admin.get(f"/auditlogview/show/{entry.id}"))

    assert "<th>Active</th><td>Yes → No</td>" in page
    assert "<th>Status</th><td>pending → confirmed</td>" in page
    assert "<th>Starts at</th><td>2031-01-15 09:00:00 UTC</td>" in page
    assert "<th>Note</th><td>—</td>" in page
    assert "What changed" in page and "Changed Row" not in page


def test_quick_links_cover_today(app, tenant_a):
    _dated(tenant_a.provider_id, "test.just_now", datetime.now(timezone.utc))
    _dated(tenant_a.provider_id, "test.long_ago",
           datetime.now(timezone.utc) - timedelta(days=60))
    staff = signed_in(app, tenant_a.staff_email)
    page = page_text(staff.get("/auditlogview/list/"))
    today = re.search(r'href="(\?[^"]+)">Today</a>', page).group(1).replace("&amp;", "&")

    filtered = page_text(staff.get(f"/auditlogview/list/{today}"))

    assert "test.just_now" in filtered and "test.long_ago" not in filtered
