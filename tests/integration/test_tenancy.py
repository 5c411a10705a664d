from __future__ import annotations

import pytest

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Account, AuditLog
from app.services import audit, tenancy
from app.services.scopes import Scope


def _audit_entry(provider_id: int) -> int:
    entry_id = audit.record("test.touched", entity="provider", entity_id=provider_id,
                            provider_id=provider_id)
    db.session.commit()
    return entry_id


def test_get_owned_hides_foreign_rows(app_ctx, build):
    own, foreign = build.provider(), build.provider()
    own_entry, foreign_entry = _audit_entry(own), _audit_entry(foreign)

    mine = Scope.of_provider(own)
    assert tenancy.get_owned(AuditLog, own_entry, scope=mine).id == own_entry
    with pytest.raises(NotFound) as error:
        tenancy.get_owned(AuditLog, foreign_entry, scope=mine)
    assert error.value.code == "audit_log.not_found"
    assert tenancy.get_owned(AuditLog, foreign_entry,
                             scope=Scope.all_providers()).id == foreign_entry


def test_scope_of_each_role(app_ctx, build):
    provider_id = build.provider()
    staff = db.session.get(Account, build.staff(provider_id))
    admin = db.session.get(Account, build.admin())
    customer = db.session.get(Account, build.customer())

    assert tenancy.scope_for(staff) == Scope.of_provider(provider_id)
    assert tenancy.scope_for(admin) == Scope.all_providers()
    with pytest.raises(Forbidden):
        tenancy.scope_for(customer)
    with pytest.raises(Forbidden):
        tenancy.staff_provider_id(None)
