"""A provider's look on its storefront pages: its colour and logo.

The colour is a hex colour (``#1f6feb``); the text on it is black or white, whichever
contrasts more with it (WCAG relative luminance), so a page in any brand colour stays
readable: the better of the two always reaches 4.5:1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.models import Image, Provider
from app.services import images

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
DARK_TEXT, LIGHT_TEXT = "#000000", "#ffffff"


def normalise_brand_color(value: str) -> str:
    """``#1F6FEB``, ``1f6feb`` or ``#17e`` → ``#1f6feb``; anything else is a ValueError."""
    match = _HEX.fullmatch((value or "").strip())
    if match is None:
        raise ValueError("A colour like #1f6feb: # and six hex digits (0-9, a-f).")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return f"#{digits}"


def _luminance(hex_color: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_color_on(background: str) -> str:
    return LIGHT_TEXT if contrast(background, LIGHT_TEXT) >= contrast(background, DARK_TEXT) \
        else DARK_TEXT


@dataclass(frozen=True)
class Branding:
    color: str | None
    text_color: str | None
    logo: Image | None


def branding_of(provider: Provider) -> Branding:
    color = provider.brand_color
    return Branding(color, text_color_on(color) if color else None,
                    images.logo_of(provider.id))
