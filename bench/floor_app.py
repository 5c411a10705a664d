"""The floor for bench/booking.py: the capacity transaction alone, on SQLAlchemy Core.

No auth, no outbox, no history, no ORM: one conditional UPDATE and a commit per request,
served by gunicorn with the same settings as the real app. What the booking endpoint
does on top of this is the price of doing the job properly.
"""
from __future__ import annotations

import json
import os

from flask import Flask, Response, request
from sqlalchemy import create_engine, text

from config import Config

engine = create_engine(Config().SQLALCHEMY_DATABASE_URI, pool_pre_ping=True)
app = Flask(__name__)
TAKE = text("UPDATE slot SET booked = booked + :n WHERE id = :id AND booked + :n <= capacity "
            "RETURNING id")


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
