"""Console form fields for pictures: an upload checked as it is sent (a wrong type, too
large or too small is an error next to the field), and what happens on save."""
from __future__ import annotations

from flask import g
from flask_wtf.file import FileField
from wtforms.validators import Optional, ValidationError

from app.errors import ValidationFailed
from app.models.images import LOGO, OFFERING_PICTURE
from app.services import images

REPLACED_FILES = "replaced_picture_files"  # on flask.g: removed after the save's commit


def uploaded_bytes(upload) -> bytes | None:
    """The bytes of a sent file, or None when no file was chosen."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    upload.stream.seek(0)
    return upload.stream.read()


def _checked_as(role: str):
    def check(form, field):
        data = uploaded_bytes(field.data)
        if data is None:
            return
        try:
            images.prepare_image(data, role=role, field=field.name)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from None

    return check


def picture_upload(label: str, *, role: str = OFFERING_PICTURE,
                   description: str = "") -> FileField:
    return FileField(label, validators=[Optional(), _checked_as(role)],
                     description=description,
                     render_kw={"accept": "image/jpeg,image/png,image/webp"})


def logo_upload() -> FileField:
    return picture_upload("Logo", role=LOGO, description=(
        "JPEG, PNG or WebP; a square picture works best. Shown on your storefront pages."))


def remember_replaced(keys: list[str]) -> None:
    g.setdefault(REPLACED_FILES, []).extend(keys)


def forget_replaced() -> None:
    """After the save committed: the replaced pictures' files go."""
    keys = g.pop(REPLACED_FILES, [])
    if keys:
        images.forget_files(keys)
