"""Pictures: checked by their content, resized, stored in the local images folder (like
receipts' PDFs), found only where customers may see them; brand colours."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as Pillow
from sqlalchemy import func, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Image, Offering, Provider
from app.services import images
from app.services.branding import contrast, normalise_brand_color, text_color_on
from tests.pictures import picture_bytes


def stored(image: Image, size: str) -> Pillow.Image:
    return Pillow.open(io.BytesIO(images.read_rendition(image, size)))


def test_a_photo_is_stored_in_two_sizes_upright_and_without_its_metadata(app_ctx, build):
    provider = build.provider()
    offering_id = build.offering(provider)
    offering = db.session.get(Offering, offering_id)
    # A phone photo held upright: 1600 x 1200 pixels, "rotate 90°" in its EXIF, and GPS.
    data = picture_bytes(2400, 1800, exif_orientation=6)

    images.replace_offering_picture(offering, data, "  Mats in a bright studio ")
    db.session.commit()

    image = images.pictures_of([offering_id])[offering_id]
    assert (image.content_type, image.alt_text) == ("image/jpeg", "Mats in a bright studio")
    assert (image.width, image.height) == (1200, 1600)  # turned upright, fits 1600
    assert (image.thumb_width, image.thumb_height) == (360, 480)
    large = stored(image, "large")
    assert large.format == "JPEG" and large.size == (1200, 1600)
    assert not large.getexif()  # no orientation, no GPS position
    folder = Path(app_ctx.config["INSTANCE_DIR"]) / "images"
    assert sorted(p.name for p in (folder / image.storage_key).iterdir()) == [
        "large.jpg", "thumb.jpg"]


def test_a_transparent_logo_stays_a_png_and_replacing_it_removes_the_old_files(app_ctx,
                                                                                build):
    provider = db.session.get(Provider, build.provider(name="Harbor"))
    old_keys = images.replace_logo(provider, picture_bytes(300, 300, format="PNG",
                                                           mode="RGBA", color=(0, 0, 0, 0)))
    db.session.commit()
    first = images.logo_of(provider.id)
    assert old_keys == [] and first.content_type == "image/png"
    assert first.alt_text == "Harbor logo" and (first.width, first.height) == (300, 300)
    first_version = first.version
    assert stored(first, "thumb").size == (160, 160)

    replaced = images.replace_logo(provider, picture_bytes(200, 100, format="WEBP"))
    db.session.commit()
    images.forget_files(replaced)

    second = images.logo_of(provider.id)
    assert second.version != first_version and second.content_type == "image/jpeg"
    assert db.session.scalar(select(func.count()).select_from(Image)) == 1
    with pytest.raises(NotFound):
        images.read_rendition(first, "large")  # its files are gone


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"%PDF-1.4 not a picture", "This is not a picture"),
    (picture_bytes(400, 300, format="GIF"), "Upload a JPEG, PNG or WebP picture."),
    (picture_bytes(80, 300), "too small (80 × 300)"),
])
def test_what_is_not_a_usable_picture_is_refused_in_words(app_ctx, data, message):
    with pytest.raises(ValidationFailed) as refused:
        images.prepare_image(data, field="picture_upload")
    assert message in refused.value.message
    assert list(refused.value.errors) == ["picture_upload"]


def test_size_and_pixel_limits_come_from_the_settings(app_ctx):
    data = picture_bytes(1000, 1000)
    saved = dict(app_ctx.config)
    try:
        app_ctx.config["IMAGE_MAX_BYTES"] = len(data) - 1
        with pytest.raises(ValidationFailed, match="larger than"):
            images.prepare_image(data)
        app_ctx.config["IMAGE_MAX_BYTES"] = saved["IMAGE_MAX_BYTES"]
        app_ctx.config["IMAGE_MAX_PIXELS"] = 999_999
        with pytest.raises(ValidationFailed, match="too many pixels"):
            images.prepare_image(data)
    finally:
        app_ctx.config.update(IMAGE_MAX_BYTES=saved["IMAGE_MAX_BYTES"],
                              IMAGE_MAX_PIXELS=saved["IMAGE_MAX_PIXELS"])


def test_only_pictures_customers_may_see_are_found(app_ctx, build):
    provider_id = build.provider()
    shown, hidden = (db.session.get(Offering, build.offering(provider_id, active=active))
                     for active in (True, False))
    for offering in (shown, hidden):
        images.replace_offering_picture(offering, picture_bytes(), "")
    images.replace_logo(db.session.get(Provider, provider_id), picture_bytes(200, 200))
    db.session.commit()
    pictures = images.pictures_of([shown.id, hidden.id])
    logo = images.logo_of(provider_id)

    assert images.visible_image(pictures[shown.id].id).id == pictures[shown.id].id
    assert images.visible_image(logo.id).id == logo.id
    with pytest.raises(NotFound):
        images.visible_image(pictures[hidden.id].id)  # an inactive offering's picture
    db.session.get(Provider, provider_id).active = False
    db.session.commit()
    for image_id in (pictures[shown.id].id, logo.id):
        with pytest.raises(NotFound):
            images.visible_image(image_id)  # nothing of an inactive provider


@pytest.mark.parametrize(("typed", "saved"), [
    ("#1F6FEB", "#1f6feb"), ("1f6feb", "#1f6feb"), (" #17e ", "#1177ee")])
def test_brand_colours_are_saved_as_six_hex_digits(typed, saved):
    assert normalise_brand_color(typed) == saved


@pytest.mark.parametrize("typed", ["blue", "#12345", "#gggggg", "rgb(1,2,3)", ""])
def test_anything_else_is_not_a_brand_colour(typed):
    with pytest.raises(ValueError, match="six hex digits"):
        normalise_brand_color(typed)


@pytest.mark.parametrize("color", ["#ffff00", "#1f6feb", "#777777", "#000000", "#e11d48"])
def test_text_on_a_brand_colour_is_readable(color):
    assert contrast(color, text_color_on(color)) >= 4.5
