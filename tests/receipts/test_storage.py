"""Receipt storage: a local folder and S3 (a real S3-compatible server: moto, in-process)."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Receipt
from app.services import receipts
from app.gateways.object_storage import (
    BadKey,
    LocalStorage,
    ObjectMissing,
    S3Storage,
    get_storage,
)
from tests.receipts.conftest import paid, pdf_text, run_event_jobs

BUCKET = "bookwell-receipts-test"
DATA = b"%PDF-1.4 not really a pdf \x00\xff" * 100


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(app, s3_server, monkeypatch):
    settings = {"S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3_server, "S3_REGION": "us-east-1",
                "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing",
                "S3_PREFIX": "receipts/"}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    storage = S3Storage(BUCKET, endpoint_url=s3_server, region="us-east-1",
                        access_key_id="testing", secret_access_key="testing")
    try:
        storage.client.create_bucket(Bucket=BUCKET)
    except storage.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return settings


def _round_trip(storage):
    key = "7/receipt/R-000001.pdf"
    assert not storage.exists(key)
    with pytest.raises(ObjectMissing):
        storage.get(key)
    storage.put(key, DATA)
    assert storage.exists(key)
    assert hashlib.sha256(storage.get(key)).hexdigest() == hashlib.sha256(DATA).hexdigest()
    storage.put(key, DATA + b"!")  # a replacement is whole
    assert storage.get(key) == DATA + b"!"


def test_local_storage_round_trip_is_atomic(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    _round_trip(storage)
    files = sorted(p.name for p in (tmp_path / "store").rglob("*") if p.is_file())
    assert files == ["R-000001.pdf"]  # no temporary file left behind


@pytest.mark.parametrize("key", ["../escape.pdf", "/etc/passwd", "a/../../b.pdf", "",
                                 "a//b.pdf", "./a.pdf", "a\\..\\b.pdf"])
def test_keys_are_plain_relative_paths(tmp_path, key):
    storage = LocalStorage(tmp_path)
    with pytest.raises(BadKey):
        storage.put(key, DATA)
    with pytest.raises(BadKey):
        storage.get(key)


def test_s3_storage_round_trip(app_ctx, s3_settings):
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    _round_trip(storage)
    listed = storage.client.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert "receipts/7/receipt/R-000001.pdf" in [o["Key"] for o in listed]


def test_a_receipt_is_issued_into_s3_and_read_back(app, build, shop, s3_settings):
    paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    receipt = db.session.scalars(select(Receipt)).one()
    storage = get_storage()
    stored = storage.client.get_object(Bucket=BUCKET,
                                       Key=f"receipts/{receipt.storage_key}")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == receipt.sha256
    assert "R-000001" in pdf_text(receipts.pdf_of(receipt))


def test_local_storage_is_the_default(app_ctx, receipt_folder):
    storage = get_storage()
    assert isinstance(storage, LocalStorage) and storage.root == receipt_folder
