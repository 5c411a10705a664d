"""The REST API under /api/v1 (flask-smorest). Thin: business rules live in ``app.services``."""
from __future__ import annotations

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint as FlaskBlueprint
from flask import send_from_directory
from flask_smorest import Api as SmorestApi
from swagger_ui_bundle import swagger_ui_path

from api import api_key_auth, errors
from api.auth.routes import blp as auth_blp
from api.bookings.provider import blp as provider_bookings_blp
from api.bookings.routes import blp as bookings_blp
from api.calendar_feeds.routes import blp as calendar_feeds_blp
from api.catalog.routes import blp as catalog_blp
from api.manage.routes import blp as manage_blp
from api.me.routes import blp as me_blp
from api.notifications.routes import blp as twilio_webhooks_blp
from api.payments.customer import blp as payments_blp
from api.payments.provider import blp as provider_payments_blp
from api.payments.webhooks import blp as webhooks_blp
from api.privacy.routes import blp as privacy_blp
from api.receipts.routes import blp as receipts_blp
from api.resources.calendars import blp as resource_calendars_blp
from api.resources.hours import blp as resource_hours_blp
from api.resources.routes import blp as resources_blp
from api.waitlist.routes import blp as waitlist_blp
from api.webhooks import payloads as webhook_payloads
from api.webhooks.routes import blp as webhook_endpoints_blp
from app.extensions import csrf
from app.services import accounts

PREFIX = "/api/v1"
BLUEPRINTS = [auth_blp, me_blp, catalog_blp, manage_blp, bookings_blp, payments_blp,
              provider_payments_blp, webhooks_blp, privacy_blp, twilio_webhooks_blp,
              receipts_blp, calendar_feeds_blp, waitlist_blp, resources_blp,
              resource_hours_blp, resource_calendars_blp, webhook_endpoints_blp,
              provider_bookings_blp]


def schema_name(schema) -> str:
    """`OfferingSchema` → `Offering`; a partial (PATCH) copy gets its own name."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


class Api(SmorestApi):
    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self):
        # smorest's own handler is app-wide and would turn console pages into JSON.
        errors.register_error_handlers(self._app)


def _docs_assets_blueprint() -> FlaskBlueprint:
    """Swagger UI's files from an installed package, so the docs work offline."""
    bp = FlaskBlueprint("api_docs_assets", __name__)

    @bp.route(f"{PREFIX}/docs/assets/<path:filename>")
    def swagger_ui_asset(filename):
        return send_from_directory(swagger_ui_path, filename)

    return bp


def init_api(app) -> Api:
    api = Api(app, spec_kwargs={
        "servers": [{"url": "/"}],
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
    })
    for blp in BLUEPRINTS:
        api.register_blueprint(blp, url_prefix=PREFIX + blp.url_prefix)
        csrf.exempt(blp)
    webhook_payloads.register(api.spec)
    app.register_blueprint(_docs_assets_blueprint())
    app.after_request(api_key_auth.record_call)

    jwt_manager = app.appbuilder.sm.jwt_manager
    errors.register_jwt_error_callbacks(jwt_manager)
    jwt_manager.token_in_blocklist_loader(lambda header, payload: accounts.is_token_revoked(payload))
    return api
