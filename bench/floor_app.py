"""The floor for bench/booking.py: the capacity transaction alone, on SQLAlchemy Core.

No auth, no outbox, no history, no ORM: one conditional UPDATE and a commit per request,
served by gunicorn with the same settings as the real app. What the booking endpoint
does on top of this is the price of doing the job properly.

``/floor/resource-bookings`` (the "resource" shape) is the same transaction plus the
least that a booking needing staff and rooms must also do: for each kind the offering
needs, take the slot's time of the first of its resources that is free, one INSERT per
resource tried, which itself checks the resource's busy times and shifts and lets the
exclusion constraint refuse an overlap (``ON CONFLICT DO NOTHING``: the next one is
tried); nobody free of a kind rolls the transaction back (409). What it leaves out: the
booking's own rows (its resource time points at one placeholder booking, the table
needs one), reading the offering's needs per request (read once per process), and
ranking the candidates (tried in id order, not the least booked that day first).
"""
from __future__ import annotations

import itertools
import json
import os

from flask import Flask, Response, request
from sqlalchemy import create_engine, text

from config import Config

engine = create_engine(Config().SQLALCHEMY_DATABASE_URI, pool_pre_ping=True)
app = Flask(__name__)
TAKE = text("UPDATE slot SET booked = booked + :n WHERE id = :id AND booked + :n <= capacity "
            "RETURNING id")
# The resource shape: the slot's time of resources (buffers included), as the app takes it.
TAKE_WITH_TIME = text(
    "UPDATE slot SET booked = booked + :n WHERE id = :id AND booked + :n <= capacity "
    "RETURNING provider_id, coalesce(resource_from, starts_at) AS starts_at, "
    "coalesce(resource_until, ends_at) AS ends_at")
TAKE_RESOURCE = """
INSERT INTO resource_booking (resource_id, booking_id, provider_id, starts_at, ends_at{key})
SELECT r.id, :booking, r.provider_id, :starts_at, :ends_at{key_value} FROM resource r
WHERE r.id = :resource AND r.active
  AND NOT EXISTS (SELECT 1 FROM resource_busy b WHERE b.resource_id = r.id
                  AND b.starts_at < :ends_at AND b.ends_at > :starts_at)
  AND (NOT r.keeps_hours OR EXISTS (
        SELECT 1 FROM resource_shift s WHERE s.resource_id = r.id
        AND s.starts_at <= :starts_at AND s.ends_at >= :ends_at))
ON CONFLICT DO NOTHING RETURNING id"""
PLACEHOLDER = "FLOORHOLD"  # the booking the floor's resource time points at
_needs: dict[int, list[list[int]]] = {}
_setup: dict[str, object] = {}
_keys = itertools.count()


@app.get("/healthz")
def healthz():
    return {"status": "ok", "pid": os.getpid()}


@app.post("/floor/bookings")
def book():
    body = request.get_json()
    with engine.begin() as conn:
        taken = conn.execute(TAKE, {"id": body["slot_id"], "n": body.get("quantity", 1)}).first()
    status = 201 if taken else 409
    return Response(json.dumps({"slot_id": body["slot_id"]}), status=status,
                    mimetype="application/json")


class _Refused(Exception):
    pass


@app.post("/floor/resource-bookings")
def book_with_resources():
    body = request.get_json()
    offering_id = body["offering_id"]
    try:
        with engine.begin() as conn:
            if not _setup:
                _read_setup(conn)
            needs = _needs.get(offering_id) or _read_needs(conn, offering_id)
            slot = conn.execute(TAKE_WITH_TIME, {"id": body["slot_id"],
                                                 "n": body.get("quantity", 1)}).first()
            if slot is None:
                raise _Refused()
            values = {"booking": _setup["booking"], "starts_at": slot.starts_at,
                      "ends_at": slot.ends_at}
            if _setup["share_key"]:
                values["key"] = f"floor:{os.getpid()}:{next(_keys)}"  # its own time
            for candidates in needs:
                if not any(conn.execute(_setup["take"], {**values, "resource": rid}).first()
                           for rid in candidates):
                    raise _Refused()  # nobody of this kind free: undo it all
        status = 201
    except _Refused:
        status = 409
    return Response(json.dumps({"slot_id": body["slot_id"]}), status=status,
                    mimetype="application/json")


def _read_setup(conn) -> None:
    """Once per process: the placeholder booking, and whether resource time says who may
    share it (``share_key``, where the schema has it)."""
    share_key = conn.execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'resource_booking' "
        "AND column_name = 'share_key'")).first() is not None
    _setup["take"] = text(TAKE_RESOURCE.format(key=", share_key" if share_key else "",
                                               key_value=", :key" if share_key else ""))
    _setup["share_key"] = share_key
    _setup["booking"] = conn.execute(text("SELECT id FROM booking WHERE reference = :r"),
                                     {"r": PLACEHOLDER}).scalar_one()


def _read_needs(conn, offering_id: int) -> list[list[int]]:
    """Once per process and offering: per kind, its active resources in id order."""
    by_kind: dict[str, list[int]] = {}
    for kind, resource_id in conn.execute(text(
            "SELECT r.kind, r.id FROM offering_resource l JOIN resource r "
            "ON r.id = l.resource_id WHERE l.offering_id = :o AND r.active "
            "ORDER BY r.kind, r.id"), {"o": offering_id}):
        by_kind.setdefault(kind, []).append(resource_id)
    _needs[offering_id] = list(by_kind.values())
    return _needs[offering_id]
