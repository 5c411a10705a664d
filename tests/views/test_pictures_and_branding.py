"""Pictures and branding in the console (uploads on the offering and provider forms, with
form errors next to the field) and on the storefront (served with caching headers and the
right type, only where customers may see them; a provider's colour and logo on its pages
and its offerings' pages)."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Image, Offering, Provider
from app.services import images
from tests.pictures import picture_bytes
from tests.views.console import provider_form, provider_snapshot, signed_in


def upload(data: bytes, name: str = "photo.jpg"):
    return (io.BytesIO(data), name)


def offering_form(tenant, **changes) -> dict:
    form = {"kind": "service", "name": "Sauna", "description": "", "price_minor": "25.00",
            "currency": "", "duration_minutes": "30", "active": "y"}
    form.update(changes)
    return form


def test_staff_upload_a_picture_with_a_new_offering_and_replace_it(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    saved = staff.post("/offeringview/add", content_type="multipart/form-data",
                       data=offering_form(tenant_a, picture_upload=upload(picture_bytes()),
                                          picture_description="A wooden sauna"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    offering = db.session.scalar(select(Offering).where(Offering.name == "Sauna"))
    first = images.pictures_of([offering.id])[offering.id]
    assert (first.provider_id, first.alt_text) == (tenant_a.provider_id, "A wooden sauna")
    first_version = first.version

    replaced = staff.post(f"/offeringview/edit/{offering.id}",
                          content_type="multipart/form-data",
                          data=offering_form(tenant_a, picture_upload=upload(
                              picture_bytes(1000, 1000, format="PNG"), "sauna.png")))
    assert replaced.status_code == 302
    db.session.expire_all()
    second = images.pictures_of([offering.id])[offering.id]
    assert second.version != first_version and second.alt_text == ""
    assert len(db.session.scalars(select(Image)).all()) == 1  # the old row went

    removed = staff.post(f"/offeringview/edit/{offering.id}", data=offering_form(
        tenant_a, remove_picture="y"))
    assert removed.status_code == 302
    assert images.pictures_of([offering.id]) == {}


def test_a_file_that_is_no_picture_is_a_form_error_and_saves_nothing(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    refused = staff.post("/offeringview/add", content_type="multipart/form-data",
                         data=offering_form(tenant_a, picture_upload=upload(
                             b"MZ\x90\x00 an executable", "holiday.jpg")))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "This is not a picture: upload a JPEG, PNG or WebP file." in page
    assert db.session.scalar(select(Offering).where(Offering.name == "Sauna")) is None
    assert db.session.scalar(select(Image)) is None


def test_a_picture_larger_than_other_requests_may_be_is_accepted(app, tenant_a):
    # MAX_CONTENT_LENGTH (1 MiB) is for ordinary requests; picture forms take more.
    big = picture_bytes(2600, 2600, format="PNG")
    noise = bytes(range(256)) * (1_200_000 // 256)
    data = big + noise  # a PNG with junk after its end still opens; > 1 MiB in all
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    staff = signed_in(app, tenant_a.staff_email)
    saved = staff.post("/offeringview/add", content_type="multipart/form-data",
                       data=offering_form(tenant_a, picture_upload=upload(data, "a.png")))
    assert saved.status_code == 302, saved.status_code


def test_staff_brand_their_shop_and_a_bad_colour_is_a_form_error(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    refused = staff.post(f"/providerview/edit/{tenant_a.provider_id}",
                         data=provider_form(tenant_a.provider_id, brand_color="blue"))
    assert refused.status_code == 200
    assert "A colour like #1f6feb" in refused.get_data(as_text=True)
    assert provider_snapshot(tenant_a.provider_id)["brand_color"] is None

    saved = staff.post(f"/providerview/edit/{tenant_a.provider_id}",
                       content_type="multipart/form-data",
                       data={**provider_form(tenant_a.provider_id, brand_color="#0F766E",
                                             description="Saunas by the sea."),
                             "logo_upload": upload(picture_bytes(400, 400), "logo.jpg")})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    row = provider_snapshot(tenant_a.provider_id)
    assert (row["brand_color"], row["description"]) == ("#0f766e", "Saunas by the sea.")
    assert images.logo_of(tenant_a.provider_id) is not None

    tiny = staff.post(f"/providerview/edit/{tenant_a.provider_id}",
                      content_type="multipart/form-data",
                      data={**provider_form(tenant_a.provider_id),
                            "logo_upload": upload(picture_bytes(40, 40), "logo.jpg")})
    assert "too small (40 × 40)" in tiny.get_data(as_text=True)


def _shop(build, **provider_fields):
    provider_id = build.provider(name="Harbor Yoga", slug="harbor", **provider_fields)
    offering_id = build.offering(provider_id, name="Sunrise flow")
    images.replace_offering_picture(db.session.get(Offering, offering_id), picture_bytes(),
                                    "Mats facing the harbour")
    images.replace_logo(db.session.get(Provider, provider_id), picture_bytes(300, 300))
    db.session.commit()
    return provider_id, offering_id


def test_pictures_are_served_with_their_type_and_cached_for_long(client, build):
    _, offering_id = _shop(build)
    picture = images.pictures_of([offering_id])[offering_id]
    response = client.get(f"/shop/images/{picture.id}/{picture.version}/thumb")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.data[:3] == b"\xff\xd8\xff"
    again = client.get(f"/shop/images/{picture.id}/{picture.version}/thumb",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/shop/images/{picture.id}/{picture.version}/huge").status_code == 404
    assert client.get("/shop/images/999999/abc/large").status_code == 404
    # Another upload's address (an old one of a re-used id) is not this picture.
    assert client.get(f"/shop/images/{picture.id}/0123abcd/large").status_code == 404


def test_a_hidden_offerings_picture_is_not_served(client, build):
    _, offering_id = _shop(build)
    picture = images.pictures_of([offering_id])[offering_id]
    db.session.get(Offering, offering_id).active = False
    db.session.commit()
    assert client.get(f"/shop/images/{picture.id}/{picture.version}/large").status_code == 404


def test_pictures_and_branding_on_the_storefront(client, build):
    provider_id, offering_id = _shop(build, brand_color="#0f766e",
                                     description="Yoga by the water.")
    picture = images.pictures_of([offering_id])[offering_id]
    logo = images.logo_of(provider_id)

    results = client.get("/shop/").get_data(as_text=True)
    assert f'src="/shop/images/{picture.id}/{picture.version}/thumb"' in results
    assert 'alt="Mats facing the harbour"' in results

    shop = client.get("/shop/providers/harbor").get_data(as_text=True)
    assert "background: #0f766e; color: #ffffff;" in shop
    assert f'src="/shop/images/{logo.id}/{logo.version}/thumb"' in shop and "Yoga by the water." in shop

    page = client.get(f"/shop/offerings/{offering_id}").get_data(as_text=True)
    assert "background: #0f766e" in page
    assert re.search(rf'<img class="picture" src="/shop/images/{picture.id}/{picture.version}/large"\s+'
                     r'alt="Mats facing the harbour"', page)
    assert 'href="/shop/providers/harbor">Harbor Yoga</a>' in page
