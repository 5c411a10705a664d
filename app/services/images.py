"""Pictures of offerings and providers' logos: checked, resized, stored, found.

An upload is checked by its content, never by its name or declared type: it must be a
JPEG, PNG or WebP picture Pillow can read, at most ``IMAGE_MAX_BYTES`` long and
``IMAGE_MAX_PIXELS`` in area, at least ``MIN_SIDE`` pixels on each side. It is then turned
upright (EXIF orientation), re-encoded without its metadata (a phone's GPS position stays
out) and stored twice: ``large`` (fits 1600 px; a logo 512 px) and ``thumb`` (fits 480
px; a logo 160 px), as JPEG, or PNG when it has transparency. Files go to the ``images``
area of object storage before the row is written, so a row always has its files; a
failed save leaves unused files behind, never a row without them.

Customers only ever get pictures of active providers: a logo, or the picture of an active
offering (``visible_image``).
"""
from __future__ import annotations

import io
import logging
import uuid
from dataclasses import dataclass

from flask import current_app
from PIL import Image as Pillow
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.gateways.object_storage import IMAGES, ObjectMissing, get_storage
from app.models import Image, Offering, Provider
from app.models.images import LOGO, OFFERING_PICTURE

log = logging.getLogger(__name__)

FORMATS = {"JPEG", "PNG", "WEBP"}  # what Pillow says the content is
MIN_SIDE = 100
SIZES = {OFFERING_PICTURE: {"large": 1600, "thumb": 480}, LOGO: {"large": 512, "thumb": 160}}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}
MAX_ALT_TEXT = 300


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class PreparedImage:
    content_type: str
    large: Rendition
    thumb: Rendition


def _refuse(message: str, field: str):
    raise ValidationFailed("image.invalid", message, {field: [message]})


def prepare_image(data: bytes, *, role: str = OFFERING_PICTURE,
                  field: str = "image") -> PreparedImage:
    """Check an upload and make its two sizes; ``ValidationFailed`` (on ``field``) says
    what is wrong in words a provider understands."""
    config = current_app.config
    limit = config["IMAGE_MAX_BYTES"]
    if not data:
        _refuse("The file is empty.", field)
    if len(data) > limit:
        _refuse(f"The picture is larger than {limit / 1024 / 1024:.0f} MB.", field)
    try:
        picture = Pillow.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError):
        _refuse("This is not a picture: upload a JPEG, PNG or WebP file.", field)
    if picture.format not in FORMATS:
        _refuse("Upload a JPEG, PNG or WebP picture.", field)
    width, height = picture.size
    if width * height > config["IMAGE_MAX_PIXELS"]:
        _refuse(f"The picture has too many pixels ({width} × {height}); make it smaller "
                "than about 40 megapixels.", field)
    if min(width, height) < MIN_SIDE:
        _refuse(f"The picture is too small ({width} × {height}); it needs at least "
                f"{MIN_SIDE} pixels on each side.", field)
    try:
        picture.load()
        upright = ImageOps.exif_transpose(picture)
    except (OSError, ValueError, Pillow.DecompressionBombError):
        _refuse("The picture could not be read; it may be damaged.", field)
    transparent = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info)
    upright = upright.convert("RGBA" if transparent else "RGB")
    content_type = "image/png" if transparent else "image/jpeg"
    sizes = SIZES[role]
    return PreparedImage(content_type,
                         _rendition(upright, sizes["large"], content_type),
                         _rendition(upright, sizes["thumb"], content_type))


def _rendition(picture, longest: int, content_type: str) -> Rendition:
    copy = picture.copy()
    copy.thumbnail((longest, longest), Pillow.Resampling.LANCZOS)
    out = io.BytesIO()
    if content_type == "image/png":
        copy.save(out, "PNG", optimize=True)
    else:
        copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return Rendition(out.getvalue(), copy.width, copy.height)


def _stored(provider_id: int, role: str, prepared: PreparedImage, alt_text: str) -> Image:
    """Write the files, then a new row (not yet added to any session)."""
    key = f"{provider_id}/{role}/{uuid.uuid4().hex}"
    extension = EXTENSIONS[prepared.content_type]
    storage = get_storage(IMAGES)
    for name in ("large", "thumb"):
        storage.put(f"{key}/{name}.{extension}", getattr(prepared, name).data,
                    content_type=prepared.content_type)
    return Image(provider_id=provider_id, role=role, storage_key=key,
                 content_type=prepared.content_type,
                 width=prepared.large.width, height=prepared.large.height,
                 thumb_width=prepared.thumb.width, thumb_height=prepared.thumb.height,
                 byte_size=len(prepared.large.data), alt_text=(alt_text or "").strip()[
                     :MAX_ALT_TEXT])


def file_keys(image: Image) -> list[str]:
    extension = EXTENSIONS.get(image.content_type, "jpg")
    return [f"{image.storage_key}/{name}.{extension}" for name in ("large", "thumb")]


# --- the console's saves: they join the save's own transaction -------------------------

def replace_offering_picture(offering: Offering, data: bytes, alt_text: str) -> list[str]:
    """Inside the console's open save of ``offering``: its new picture (the old one's row
    goes). Returns the old files' keys, to remove after the commit."""
    prepared = prepare_image(data, role=OFFERING_PICTURE, field="picture_upload")
    old = _current(Image.offering_id == offering.id) if offering.id else None
    image = _stored(offering.provider_id, OFFERING_PICTURE, prepared, alt_text)
    image.offering = offering
    return _swap(old, image)


def replace_logo(provider: Provider, data: bytes) -> list[str]:
    """Inside the console's open save of ``provider``: its new logo."""
    prepared = prepare_image(data, role=LOGO, field="logo_upload")
    old = _current(Image.provider_id == provider.id, Image.role == LOGO) \
        if provider.id else None
    image = _stored(provider.id, LOGO, prepared, f"{provider.name} logo")
    return _swap(old, image)


def remove_offering_picture(offering: Offering) -> list[str]:
    return _swap(_current(Image.offering_id == offering.id), None) if offering.id else []


def remove_logo(provider: Provider) -> list[str]:
    return _swap(_current(Image.provider_id == provider.id, Image.role == LOGO), None) \
        if provider.id else []


def set_offering_picture_text(offering: Offering, alt_text: str) -> None:
    """Change what the current picture is said to show (no new upload)."""
    image = _current(Image.offering_id == offering.id) if offering.id else None
    if image is not None:
        image.alt_text = (alt_text or "").strip()[:MAX_ALT_TEXT]


def _current(*conditions) -> Image | None:
    with db.session.no_autoflush:
        return db.session.scalar(select(Image).where(*conditions))


def _swap(old: Image | None, new: Image | None) -> list[str]:
    # The old row goes first, in its own statement: one picture per offering and one
    # logo per provider are unique indexes, and a flush would insert before deleting.
    keys = []
    if old is not None:
        keys = file_keys(old)
        with db.session.no_autoflush:
            db.session.execute(delete(Image).where(Image.id == old.id))
        db.session.expunge(old)
    if new is not None:
        db.session.add(new)
    return keys


def forget_files(keys: list[str]) -> None:
    """After the commit that replaced or removed pictures: their files go too."""
    storage = get_storage(IMAGES)
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # a left-over file costs only space
            log.warning("could not delete the replaced picture %s", key, exc_info=True)


# --- what customers see ---------------------------------------------------------------

def visible_image(image_id: int) -> Image:
    """A logo of an active provider, or the picture of an active offering of one."""
    image = db.session.scalar(
        select(Image).join(Provider, Provider.id == Image.provider_id)
        .outerjoin(Offering, Offering.id == Image.offering_id)
        .where(Image.id == image_id, Provider.active.is_(True),
               (Image.role == LOGO) | Offering.active.is_(True)))
    if image is None:
        raise NotFound("image.not_found", f"No picture with id {image_id}.")
    return image


def read_rendition(image: Image, size: str) -> bytes:
    extension = EXTENSIONS.get(image.content_type, "jpg")
    try:
        return get_storage(IMAGES).get(f"{image.storage_key}/{size}.{extension}")
    except ObjectMissing:
        raise NotFound("image.not_found", "The picture's file is missing.") from None


def pictures_of(offering_ids: list[int]) -> dict[int, Image]:
    """The pictures of these offerings, by offering id (one query)."""
    if not offering_ids:
        return {}
    return {image.offering_id: image for image in db.session.scalars(
        select(Image).where(Image.offering_id.in_(offering_ids)))}


def logo_of(provider_id: int) -> Image | None:
    return db.session.scalar(select(Image).where(Image.provider_id == provider_id,
                                                 Image.role == LOGO))
