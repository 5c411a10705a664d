"""All models, imported so that SQLAlchemy and Alembic see every table."""
from app.models.audit import AuditLog
from app.models.tenancy import Provider, TenantOwned
from app.models.accounts import Account, RevokedToken

__all__ = ["Account", "AuditLog", "Provider", "RevokedToken", "TenantOwned"]
