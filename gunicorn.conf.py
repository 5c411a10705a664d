"""gunicorn's settings file, read from the working directory by ``gunicorn wsgi:app``:
the hooks Prometheus's multiprocess mode needs (app/metrics.py). Everything else is on
the command line (bin/run-server).

Each worker writes its figures to files in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums
them. The directory is emptied when gunicorn starts (figures of an earlier run would be
added to this one's; a process that shares it, such as the RQ worker of bin/run-server,
starts after gunicorn), made in /tmp when not given, and a worker that exits has its live
gauges removed.
"""
import glob
import os
import tempfile

_ENABLED = os.environ.get("METRICS_ENABLED", "").strip().lower()

if _ENABLED in ("", "1", "true", "yes", "on"):  # as config.py reads METRICS_ENABLED
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Set before any worker imports prometheus_client: it reads this at import.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bookwell-metrics-")


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)


def child_exit(server, worker):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, directory)
