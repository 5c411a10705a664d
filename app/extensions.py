"""Flask extensions, created unbound here and bound in ``create_app``."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

# Named constraints let Alembic alter tables on SQLite (batch mode) and PostgreSQL alike.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One declarative base for the console (Flask-AppBuilder) and the API.
db = get_sqla_class()(model_class=Model)
# On PostgreSQL, ``db.engines[AUTOCOMMIT_BIND]``: the same database, connections always in
# autocommit (create_app configures it; no model is bound to it).
AUTOCOMMIT_BIND = "autocommit"
migrate = Migrate()
csrf = CSRFProtect()
# The security manager hands this instance to Flask-AppBuilder, so the app has one limiter.
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection, connection_record) -> None:
    # Embedded mode must honour the same constraints and cascades as PostgreSQL.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # The same great-circle distance the Python code uses; SQLite builds may lack math.
        from app.geo import haversine_km

        dbapi_connection.create_function("bw_haversine_km", 4, haversine_km, deterministic=True)
