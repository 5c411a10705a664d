"""All models, imported so that SQLAlchemy and Alembic see every table."""
from app.models.audit import AuditLog
from app.models.availability import AvailabilityRule, ClosedDay, Slot
from app.models.catalog import Category, Location, Offering, Variant
from app.models.tenancy import Provider, TenantOwned
from app.models.accounts import Account, RevokedToken

__all__ = [
    "Account",
    "AuditLog",
    "AvailabilityRule",
    "Category",
    "ClosedDay",
    "Location",
    "Offering",
    "Provider",
    "RevokedToken",
    "Slot",
    "TenantOwned",
    "Variant",
]
