"""Structured-enough logs: every line carries the request id (or job id)."""
from __future__ import annotations

import logging
import re
import uuid

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    # Re-creating the app (tests) must not stack handlers.
    root.handlers = [h for h in root.handlers if not getattr(h, "_bookwell", False)]
    handler._bookwell = True
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Flask-AppBuilder warns at every start about Time columns it has no search filter for
    # (opening hours); nothing to act on.
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response):
        if has_request_context() and getattr(g, "request_id", None):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
