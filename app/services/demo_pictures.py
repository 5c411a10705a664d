"""Pictures for the demo data, drawn here with Pillow (nothing is fetched from outside).

Each is a small PNG (a few kilobytes): a band of the provider's colour, a simple motif of
its trade and the offering's name, so that the storefront's cards and the console's lists
show pictures from the first start. They are stored like uploads (``app.services.images``).
"""
from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 480, 320
LOGO_SIDE = 160
MOTIFS = ("sun", "pole", "cup", "leaf")


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def _lighter(rgb: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    return tuple(int(c + (255 - c) * share) for c in rgb)


def _draw_motif(draw: ImageDraw.ImageDraw, motif: str, box: tuple[int, int, int, int],
                ink: tuple[int, int, int]) -> None:
    left, top, right, bottom = box
    middle_x, middle_y = (left + right) // 2, (top + bottom) // 2
    size = min(right - left, bottom - top)
    if motif == "sun":  # a yoga sun over a calm line
        radius = size // 4
        draw.ellipse((middle_x - radius, middle_y - radius - size // 8,
                      middle_x + radius, middle_y + radius - size // 8), fill=ink)
        draw.line((left + size // 8, middle_y + size // 4, right - size // 8,
                   middle_y + size // 4), fill=ink, width=max(3, size // 24))
    elif motif == "pole":  # a barber's pole
        width = size // 4
        draw.rounded_rectangle((middle_x - width, top + size // 10, middle_x + width,
                                bottom - size // 10), radius=width // 2, outline=ink,
                               width=max(3, size // 30))
        for step in range(top + size // 10, bottom - size // 10 - size // 8, size // 8):
            draw.line((middle_x - width, step + size // 8, middle_x + width, step),
                      fill=ink, width=max(4, size // 20))
    elif motif == "cup":  # a cup of coffee
        width = size // 3
        draw.rounded_rectangle((middle_x - width, middle_y - width // 2, middle_x + width // 2,
                                middle_y + width), radius=size // 16, fill=ink)
        draw.arc((middle_x + width // 4, middle_y - width // 4, middle_x + width,
                  middle_y + width // 2), start=270, end=90, fill=ink, width=max(4, size // 24))
    else:  # a leaf
        draw.ellipse((middle_x - size // 3, middle_y - size // 6, middle_x + size // 3,
                      middle_y + size // 6), fill=ink)


def offering_picture(name: str, color: str, motif: str) -> bytes:
    """A 480 × 320 PNG: the motif on the left, the name on the right."""
    base = _rgb(color)
    picture = Image.new("RGB", (WIDTH, HEIGHT), _lighter(base, 0.85))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, HEIGHT, HEIGHT), fill=_lighter(base, 0.35))
    _draw_motif(draw, motif, (24, 24, HEIGHT - 24, HEIGHT - 24), _lighter(base, 0.9))
    font = ImageFont.load_default(size=30)
    words, lines = name.split(), []
    for word in words:  # a line per word or two: the text column is narrow
        if lines and len(lines[-1]) + len(word) < 10:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    y = HEIGHT // 2 - 20 * len(lines)
    for line in lines:
        draw.text((HEIGHT + 12, y), line, fill=base, font=font)
        y += 40
    return _png(picture)


def logo(initials: str, color: str) -> bytes:
    """A 160 × 160 PNG: the initials on a disc of the provider's colour."""
    picture = Image.new("RGB", (LOGO_SIDE, LOGO_SIDE), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((8, 8, LOGO_SIDE - 8, LOGO_SIDE - 8), fill=_rgb(color))
    font = ImageFont.load_default(size=56)
    draw.text((LOGO_SIDE // 2, LOGO_SIDE // 2), initials, fill=(255, 255, 255), font=font,
              anchor="mm")
    return _png(picture)


def _png(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)
    return out.getvalue()
