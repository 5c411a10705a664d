"""Periodic jobs on RQ's own cron scheduler, each tick enqueued once however many run.

Several schedulers may run (one per host, for availability). Before enqueueing a due job,
a scheduler claims the job's tick in Redis with ``SET NX``: the first claim wins, the
others skip that tick. A tick is the cron time the job was due at, or for interval jobs
the interval's slot of the clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from rq.cron import CronJob, CronScheduler
from rq.utils import now

from jobs.availability import generate_all_slots
from jobs.bookings import expire_holds
from jobs.conversions import clear_request_details, sweep_conversions
from jobs.events import sweep_outbox
from jobs.maintenance import purge_idempotency_keys, purge_revoked_tokens
from jobs.notifications import queue_reminders, sweep_notifications
from jobs.payments import reconcile_payments
from jobs.receipts import sweep_receipts

log = logging.getLogger(__name__)
CLAIM_PREFIX = "bookwell:cron"


@dataclass(frozen=True)
class Periodic:
    name: str
    func: object
    queue: str
    interval: int | None = None  # seconds
    cron: str | None = None      # in the scheduler host's local time (RQ's rule)


SCHEDULE = (
    Periodic("expire-holds", expire_holds, "default", interval=60),
    Periodic("outbox-sweep", sweep_outbox, "events", interval=60),
    Periodic("reconcile-payments", reconcile_payments, "payments", interval=120),
    Periodic("notification-reminders", queue_reminders, "notifications", interval=600),
    Periodic("notification-sweep", sweep_notifications, "notifications", interval=120),
    Periodic("conversion-sweep", sweep_conversions, "integrations", interval=120),
    Periodic("receipt-sweep", sweep_receipts, "payments", interval=120),
    Periodic("clear-attribution-request-details", clear_request_details, "default",
             cron="45 4 * * *"),
    Periodic("generate-slots", generate_all_slots, "default", cron="15 3 * * *"),
    Periodic("purge-revoked-tokens", purge_revoked_tokens, "default", cron="0 4 * * *"),
    Periodic("purge-idempotency-keys", purge_idempotency_keys, "default", cron="30 4 * * *"),
)


def tick_of(job: CronJob, at: datetime) -> str:
    if job.cron and job.next_enqueue_time is not None:
        return job.next_enqueue_time.strftime("%Y%m%dT%H%M")
    return str(int(at.timestamp()) // (job.interval or 60))


class GuardedCronScheduler(CronScheduler):
    """RQ's cron scheduler, with each tick claimed in Redis before it is enqueued."""

    def enqueue_jobs(self) -> list[CronJob]:
        at = now()
        enqueued = []
        for job in self.get_jobs():
            if not job.should_run():
                continue
            tick = tick_of(job, at)
            ttl = max(2 * (job.interval or 86400), 60)
            if self.connection.set(f"{CLAIM_PREFIX}:{job.name}:{tick}", self.name, nx=True,
                                   ex=ttl):
                job.enqueue(self.connection)
                enqueued.append(job)
            else:
                log.info("tick %s of %s already enqueued by another scheduler", tick, job.name)
            job.set_enqueue_time(at)
        return enqueued


def build_scheduler(connection, schedule=SCHEDULE) -> GuardedCronScheduler:
    scheduler = GuardedCronScheduler(connection=connection)
    for entry in schedule:
        scheduler.register(entry.func, entry.queue, interval=entry.interval, cron=entry.cron,
                           name=entry.name)
    return scheduler
