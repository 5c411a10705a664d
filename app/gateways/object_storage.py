"""Where files live: a local folder by default, S3-compatible storage when set up.

One small interface (``put``, ``get``, ``exists``, ``delete``) keyed by relative paths
such as ``3/receipt/R-000042.pdf``. ``get_storage(area)`` picks the backend from the app
config: ``S3_BUCKET`` set → :class:`S3Storage` (boto3, imported only then), otherwise
:class:`LocalStorage`. Two areas: ``receipts`` (receipt and credit-note PDFs: the folder
``RECEIPT_STORAGE_DIR``, default ``<instance>/receipts``, or the bucket under
``S3_PREFIX``) and ``images`` (pictures of offerings and logos: ``IMAGE_STORAGE_DIR``,
default ``<instance>/images``, or the same bucket under ``S3_IMAGE_PREFIX``).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from flask import current_app


class ObjectMissing(LookupError):
    """No object is stored under that key."""


class BadKey(ValueError):
    """A key that is not a plain relative path (absolute, ``..``, empty parts)."""


def check_key(key: str) -> str:
    if not key or "\\" in key or "\x00" in key:
        raise BadKey(f"Not a storage key: {key!r}")
    path = PurePosixPath(key)
    if path.is_absolute() or any(part in ("", ".", "..") for part in key.split("/")):
        raise BadKey(f"Not a relative storage key: {key!r}")
    return key


class LocalStorage:
    """Files under one folder; a write is atomic (a temporary file renamed into place)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str = "application/pdf") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"


class S3Storage:
    """An S3 bucket (AWS or any S3-compatible server), every key under ``prefix``."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None) -> None:
        import boto3  # only when S3 is configured: the app starts without it
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix or ""
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=20))

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/pdf") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType=content_type)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ObjectMissing(key) from None
            raise
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"


RECEIPTS, IMAGES = "receipts", "images"
# area -> (folder setting, default folder under the instance, bucket prefix setting)
AREAS = {RECEIPTS: ("RECEIPT_STORAGE_DIR", "receipts", "S3_PREFIX"),
         IMAGES: ("IMAGE_STORAGE_DIR", "images", "S3_IMAGE_PREFIX")}


def get_storage(area: str = RECEIPTS) -> LocalStorage | S3Storage:
    """The configured backend of an area, built once per app and setting."""
    config = current_app.config
    folder_setting, default_folder, prefix_setting = AREAS[area]
    if config.get("S3_BUCKET"):
        key = ("s3", config["S3_BUCKET"], config.get(prefix_setting) or "",
               config.get("S3_ENDPOINT_URL"), config.get("S3_REGION"),
               config.get("S3_ACCESS_KEY_ID"), config.get("S3_SECRET_ACCESS_KEY"))
    else:
        root = config.get(folder_setting) or os.path.join(config["INSTANCE_DIR"],
                                                          default_folder)
        key = ("local", root)
    cache = current_app.extensions.setdefault("bookwell_receipt_storage", {})
    if key not in cache:
        if key[0] == "s3":
            cache[key] = S3Storage(key[1], prefix=key[2], endpoint_url=key[3], region=key[4],
                                   access_key_id=key[5], secret_access_key=key[6])
        else:
            cache[key] = LocalStorage(key[1])
    return cache[key]
