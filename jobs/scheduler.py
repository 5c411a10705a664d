"""Periodic jobs on RQ's own cron scheduler, each tick enqueued once however many run.

Several schedulers may run (one per host, for availability). Before enqueueing a due job,
a scheduler claims the job's tick in Redis with ``SET NX``: the first claim wins, the
others skip that tick. A tick is the cron time the job was due at, or for interval jobs
the interval's slot of the clock.
"""
from __future__ import annotations

import logging
from datetime import datetime

from rq.cron import CronJob, CronScheduler
from rq.utils import now

from app import job_registry

log = logging.getLogger(__name__)
CLAIM_PREFIX = "bookwell:cron"


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


def build_scheduler(connection, schedule=job_registry.PERIODIC) -> GuardedCronScheduler:
    """RQ's scheduler with the periodic table (``app.job_registry.PERIODIC``)."""
    scheduler = GuardedCronScheduler(connection=connection)
    for entry in schedule:
        work = job_registry.job(entry.job)
        scheduler.register(work.func, work.queue, interval=entry.interval, cron=entry.cron,
                           name=entry.key)
    return scheduler
