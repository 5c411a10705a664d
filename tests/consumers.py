"""Consumers used by the outbox tests: they record what they were handed."""
from __future__ import annotations

CALLS: list[tuple[str, str, dict]] = []
FAIL_TIMES = {"count": 0}


def record(*, event_id: str, topic: str, payload: dict) -> None:
    CALLS.append((event_id, topic, payload))


def flaky(*, event_id: str, topic: str, payload: dict) -> None:
    if FAIL_TIMES["count"] > 0:
        FAIL_TIMES["count"] -= 1
        raise RuntimeError("downstream unavailable")
    CALLS.append((event_id, "flaky:" + topic, payload))
