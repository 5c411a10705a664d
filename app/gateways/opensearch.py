"""OpenSearch, behind the few calls the search backend needs.

The only module that imports ``opensearchpy``. Everything it raises is an
``OpenSearchError`` (``BulkError`` for rejected bulk items), so callers never see the
client library's exception tree. Retries are off by default: a request either answers
within ``timeout`` seconds or fails, and the job queue decides about retrying.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_exceptions
from opensearchpy.helpers import streaming_bulk

DEFAULT_TIMEOUT = 10  # seconds, per request
BULK_CHUNK_SIZE = 500  # actions per _bulk request


class OpenSearchError(RuntimeError):
    """OpenSearch did not do what was asked: unreachable, timed out, or refused."""

    def __init__(self, message: str, *, status: int | None = None,
                 error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


class BulkError(OpenSearchError):
    """Some bulk items were rejected; ``errors`` holds OpenSearch's item answers."""

    def __init__(self, errors: list[dict]) -> None:
        first = next(iter(errors[0].values()), {}) if errors else {}
        reason = first.get("error")
        super().__init__(f"{len(errors)} bulk item(s) failed; first: {reason}",
                         status=first.get("status"))
        self.errors = errors


def _wrap(exc: Exception) -> OpenSearchError:
    if isinstance(exc, os_exceptions.ConnectionError):
        return OpenSearchError(f"OpenSearch unreachable: {exc.error}", error_type="connection")
    if isinstance(exc, os_exceptions.TransportError):
        status = exc.status_code if isinstance(exc.status_code, int) else None
        info = exc.info if isinstance(exc.info, dict) else {}
        error = info.get("error") if isinstance(info.get("error"), dict) else {}
        error_type = error.get("type") or (exc.error if isinstance(exc.error, str) else None)
        reason = error.get("reason") or str(exc)
        return OpenSearchError(f"OpenSearch answered {status}: {reason}", status=status,
                               error_type=error_type)
    return OpenSearchError(f"OpenSearch call failed: {exc}")


class OpenSearchGateway:
    """Index management, bulk writes and search on one cluster.

    ``client`` is an ``opensearchpy.OpenSearch`` (or anything answering the same calls);
    tests point a real client at a local stand-in server with ``from_url``.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str, *, timeout: float = DEFAULT_TIMEOUT,
                 max_retries: int = 0) -> OpenSearchGateway:
        client = OpenSearch(hosts=[url], timeout=timeout, max_retries=max_retries,
                            retry_on_timeout=False)
        return cls(client)

    # -- indexes and aliases --------------------------------------------------------------

    def index_exists(self, name: str) -> bool:
        try:
            return bool(self.client.indices.exists(index=name))
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc

    def ensure_index(self, name: str, body: dict) -> bool:
        """Create ``name`` with ``body`` (settings, mappings) unless it exists; True if created."""
        try:
            self.client.indices.create(index=name, body=body)
            return True
        except os_exceptions.RequestError as exc:
            if exc.error == "resource_already_exists_exception":
                return False
            raise _wrap(exc) from exc
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc

    def delete_index(self, name: str) -> None:
        """Delete ``name``; an index that is already gone is fine."""
        try:
            self.client.indices.delete(index=name, ignore_unavailable=True)
        except os_exceptions.NotFoundError:
            return
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc

    def refresh(self, name: str) -> None:
        try:
            self.client.indices.refresh(index=name)
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc

    def alias_targets(self, alias: str) -> list[str]:
        """The indexes ``alias`` points to, sorted; [] when there is no such alias."""
        try:
            answer = self.client.indices.get_alias(name=alias)
        except os_exceptions.NotFoundError:
            return []
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc
        return sorted(answer)

    def switch_alias(self, alias: str, index: str, *, remove_from: Iterable[str] = (),
                     drop_index_named_like_alias: bool = False) -> None:
        """Point ``alias`` at ``index`` only, in one atomic ``_aliases`` call.

        ``drop_index_named_like_alias`` also deletes a concrete index called ``alias``
        (left by a write that auto-created it), in the same call.
        """
        actions: list[dict] = [{"remove": {"index": old, "alias": alias}}
                               for old in remove_from if old != index]
        if drop_index_named_like_alias:
            actions.append({"remove_index": {"index": alias}})
        actions.append({"add": {"index": index, "alias": alias}})
        try:
            self.client.indices.update_aliases(body={"actions": actions})
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc

    # -- documents ------------------------------------------------------------------------

    def bulk(self, actions: Iterable[dict], *, chunk_size: int = BULK_CHUNK_SIZE) -> int:
        """Send ``opensearchpy.helpers`` style actions; returns how many succeeded.

        Raises ``BulkError`` when any item fails, except deleting a document that is not
        there (the wanted end state). 429 rejections are retried twice with back-off.
        """
        done, errors = 0, []
        try:
            for ok, item in streaming_bulk(self.client, actions, chunk_size=chunk_size,
                                           raise_on_error=False, max_retries=2,
                                           initial_backoff=1, max_backoff=10):
                op_type, info = next(iter(item.items()))
                if ok or (op_type == "delete" and info.get("status") == 404):
                    done += 1
                else:
                    errors.append(item)
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc
        if errors:
            raise BulkError(errors)
        return done

    def search(self, index: str, body: dict) -> dict:
        try:
            return self.client.search(index=index, body=body)
        except os_exceptions.OpenSearchException as exc:
            raise _wrap(exc) from exc
