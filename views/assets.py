"""The console's own static files (stylesheet, icons) and the favicon browsers ask for."""
from __future__ import annotations

from flask import Blueprint, send_from_directory

from config import BASE_DIR

STATIC_DIR = BASE_DIR / "static"

bp = Blueprint("console_assets", __name__, static_folder=str(STATIC_DIR),
               static_url_path="/console-assets")


def register_assets(app) -> None:
    app.register_blueprint(bp)

    @app.route("/favicon.ico")
    def favicon():
        # Browsers ask for it on every page, the console's and the storefront's.
        response = send_from_directory(STATIC_DIR, "favicon.ico", mimetype="image/x-icon",
                                       max_age=86400)
        response.cache_control.public = True
        return response


__all__ = ["bp", "register_assets"]
