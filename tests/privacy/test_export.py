"""The export holds the customer's sessions, messages and receipts, and only theirs."""
from __future__ import annotations

import json

from tests.helpers import bearer, token_for
from tests.receipts.conftest import pdf_text


def test_the_export_holds_sessions_messages_and_receipts_of_the_customer_only(
        app, client, two_customers):
    me = bearer(token_for(two_customers["customer"]))

    response = client.get("/api/v1/me/export", headers=me)

    assert response.status_code == 200
    data = response.get_json()
    assert data["profile"]["email"] == "zebedee.quarrington@example.com"
    [session] = [s for s in data["sessions"] if s["address"]]
    assert session["address"] == two_customers["mine"]["address"]
    assert session["device"].startswith("ZebphoneClient") and session["created_at"]
    sms = next(m for m in data["messages"] if m["channel"] == "sms")
    assert sms["recipient"] == "+4915112398765" and sms["body"] == "Hi Zebedee, see you soon"
    assert sms["created_at"] and "subject" in sms
    receipts = {r["number"]: r for r in data["receipts"]}
    assert set(receipts) == {"R-000001", "CN-000001"}
    assert receipts["R-000001"]["total"] == "25.00" and receipts["R-000001"]["currency"] == "EUR"
    assert receipts["CN-000001"]["total"] == "-5.00"
    assert receipts["R-000001"]["booking_reference"] == two_customers["mine"]["reference"]
    pdf = client.get(receipts["R-000001"]["download_url"], headers=me)
    assert pdf.status_code == 200 and "R-000001" in pdf_text(pdf.data)
    stranger = client.get(receipts["R-000001"]["download_url"],
                          headers=bearer(token_for(two_customers["other"])))
    assert stranger.status_code == 404

    everything = json.dumps(data)
    for theirs in ("Ottilie", "Brunswick", "+4917655501234", "Otterphone",
                   two_customers["theirs"]["address"], two_customers["theirs"]["reference"],
                   "front-desk@example.com"):
        assert theirs not in everything
