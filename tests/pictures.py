"""Pictures made in the test, as a browser would upload them."""
from __future__ import annotations

import io

from PIL import Image


def picture_bytes(width: int = 800, height: int = 600, *, format: str = "JPEG",
                  mode: str = "RGB", color=(40, 120, 200), exif_orientation: int | None = None
                  ) -> bytes:
    picture = Image.new(mode, (width, height), color)
    out = io.BytesIO()
    options = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation  # Orientation
        exif[0x8825] = {2: (52.0, 31.0, 0.0)}  # a GPS position that must not survive
        options["exif"] = exif
    picture.save(out, format, **options)
    return out.getvalue()
