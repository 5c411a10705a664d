"""`flask bookwell worker` and `flask bookwell scheduler`: the processes that run jobs.

``wsgi.py`` adds them to the ``bookwell`` command group, so that ``app`` never imports
``jobs``.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.redis import redis_client


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Enqueue the periodic jobs (hold expiry, the pending-work sweep, slots, clean-ups)
    on time.

    Safe to run on several hosts: each tick is enqueued once.
    """
    from jobs.scheduler import build_scheduler

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set; without Redis the web process "
                                   "runs the periodic work itself.")
    build_scheduler(redis_client()).start()


@click.command("worker")
@click.option("--queues", default="events,payments,notifications,integrations,webhooks,webhooks_slow,default",
              show_default=True, help="Comma-separated queue names, highest priority first.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--fork/--no-fork", default=True, show_default=True,
              help="Fork a process per job (isolation), or run jobs in the worker process "
                   "(much cheaper for small frequent jobs such as event delivery).")
@click.option("--metrics-port", type=int, envvar="METRICS_WORKER_PORT", default=None,
              help="Serve this worker's metrics on this port (for a worker whose metrics "
                   "directory no web process reads).")
@with_appcontext
def worker_command(queues, burst, fork, metrics_port):
    """Run an RQ worker with this app built once, before jobs fork."""
    from app import metrics
    from jobs.worker import run_worker

    if metrics_port is not None and metrics.enabled():
        metrics.serve_on_port(metrics_port)
    run_worker(current_app, [q.strip() for q in queues.split(",") if q.strip()],
               burst=burst, fork=fork)


def register(group: click.Group) -> None:
    """Add the job commands to the ``flask bookwell`` group."""
    group.add_command(scheduler_command)
    group.add_command(worker_command)
