"""Storefront pages: server-rendered browsing, booking and paying for customers, on the same
services as the API.

Every page takes the visit's first touch (UTM parameters, ``ttclid``) into the session;
booking carries it, with the consent choice and the request's IP and user agent, into the
booking's attribution (rules in ``app.services.attribution_capture``). The TikTok Pixel is
rendered by ``storefront/_tiktok_pixel.html`` only with a pixel code and consent.

One blueprint (:mod:`views.storefront.blueprint`); each module adds its pages to it.
"""
from views.storefront import (
    account,
    browse,
    checkout,
    errors,
    feeds,
    formats,
    formatting,
    languages,
    manage,
    paypal,
    people,
    pictures,
    social,
    waitlist,
)
from views.storefront.blueprint import bp

# Importing a page module adds its routes to the blueprint.
__all__ = ["account", "bp", "browse", "checkout", "errors", "feeds", "formats", "formatting", "languages",
           "manage", "paypal", "people", "pictures", "social", "waitlist"]
