"""Jobs are named in one registry; services hand work over by those names only."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from app import events, job_registry, jobqueue
from app.job_registry import JOBS
from app.services import (
    conversions,
    geocoding,
    notifications,
    payment_webhooks,
    receipts,
    refunds,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_name_a_service_enqueues_resolves():
    names = {events.DELIVER_JOB, conversions.SEND_JOB, geocoding.JOB,
             notifications.SEND_JOB, payment_webhooks.PROCESS_JOB, refunds.PERFORM_JOB,
             receipts.RENDER_JOB}
    for name in names:
        assert job_registry.job(name).name == name
    for job in JOBS.values():
        assert job.queue in jobqueue.QUEUES, job
        assert job.func.__module__ == "app.job_registry", job  # the body lives here


def test_an_unknown_name_is_refused(app_ctx):
    with pytest.raises(LookupError, match="no job named 'jobs.payments.perform_refund'"):
        jobqueue.enqueue("jobs.payments.perform_refund", 1)


def test_nothing_in_app_imports_or_spells_jobs():
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("jobs"), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("jobs") for a in node.names), path
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not node.value.startswith("jobs."), (path, node.value)


@pytest.mark.parametrize("path", [
    "jobs.events.deliver_event", "jobs.events.sweep_outbox",
    "jobs.payments.process_payment_event", "jobs.payments.perform_refund",
    "jobs.payments.reconcile_payments", "jobs.notifications.send_notification",
    "jobs.notifications.queue_reminders", "jobs.notifications.sweep_notifications",
    "jobs.conversions.send_conversion", "jobs.conversions.sweep_conversions",
    "jobs.conversions.clear_request_details", "jobs.geocoding.geocode_location",
    "jobs.bookings.expire_holds", "jobs.availability.generate_all_slots",
    "jobs.maintenance.purge_revoked_tokens", "jobs.maintenance.purge_idempotency_keys",
    "jobs.search.index_offerings", "jobs.receipts.render_receipt",
    "jobs.receipts.sweep_receipts",
])
def test_paths_an_older_release_queued_still_resolve(path):
    module_name, _, func_name = path.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), func_name))


def test_the_worker_commands_join_the_bookwell_group():
    import click

    from jobs import cli

    group = click.Group("bookwell")
    cli.register(group)
    assert set(group.commands) == {"worker", "scheduler"}
    assert "job_commands.register(bookwell)" in (ROOT / "wsgi.py").read_text()
