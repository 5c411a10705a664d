"""Storefront: pictures of offerings and providers' logos, served from object storage.

A picture's address names its row and its upload (``version``), and an upload never
changes, so browsers and shared caches may keep it for a year. Only pictures customers may see
are served (``images.visible_image``); anything else is a 404.
"""
from __future__ import annotations

from flask import Response, abort, request

from app.errors import NotFound
from app.services import images
from views.storefront.blueprint import bp

ONE_YEAR = 365 * 24 * 3600


@bp.route("/images/<int:image_id>/<version>/<any(large, thumb):size>")
def picture(image_id: int, version: str, size: str):
    try:
        image = images.visible_image(image_id)
        if image.version != version:
            abort(404)
        data = images.read_rendition(image, size)
    except NotFound:
        abort(404)
    response = Response(data, mimetype=image.content_type)
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    response.set_etag(f"{image.version}-{size}")
    response.headers["Content-Disposition"] = "inline"
    return response.make_conditional(request)
