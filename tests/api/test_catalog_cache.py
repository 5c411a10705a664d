"""Public catalog reads are served from Redis and invalidated by every catalog write."""
from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import Offering


def _name(client, offering_id: int) -> str:
    return client.get(f"/api/v1/offerings/{offering_id}").get_json()["name"]


def test_reads_come_from_the_cache_until_a_write(client, build, cache_on):
    offering_id = build.offering(build.provider(), name="Reiki")
    assert _name(client, offering_id) == "Reiki"

    # Behind the application's back (no ORM event): the cached answer is still served.
    db.session.execute(update(Offering).where(Offering.id == offering_id)
                       .values(name="Changed behind our back"))
    db.session.commit()
    assert _name(client, offering_id) == "Reiki"

    # A real write, as the console or the API make it, is visible on the very next read.
    db.session.get(Offering, offering_id).name = "Reiki Deluxe"
    db.session.commit()
    assert _name(client, offering_id) == "Reiki Deluxe"


def test_an_api_edit_is_visible_on_the_next_read(client, build, cache_on):
    from tests.helpers import api_login, bearer

    provider = build.provider()
    offering_id = build.offering(provider, name="Shiatsu", price_minor=5000)
    token = api_login(client, build.email_of(build.staff(provider)))["access_token"]
    assert client.get("/api/v1/offerings?q=shiatsu").get_json()[0]["price_minor"] == 5000

    client.patch(f"/api/v1/provider/offerings/{offering_id}", headers=bearer(token),
                 json={"price_minor": 5500})

    assert client.get("/api/v1/offerings?q=shiatsu").get_json()[0]["price_minor"] == 5500
