"""Benchmark of running at scale, one section per question, each printing its own table.

Sections (``--only`` picks some; all by default):

- ``metrics``: what the Prometheus metrics cost a booking. ``POST /api/v1/bookings``
  through two gunicorn servers on the same data (the low-contention shape of
  ``bench/booking.py``: ``--clients`` clients for ``--duration`` seconds), one with
  metrics on (multiprocess mode, a fresh ``PROMETHEUS_MULTIPROC_DIR``), one with
  ``METRICS_ENABLED=false``; they take turns ``--rounds`` times in one run (in the
  other order every second round), so each comparison is of runs seconds apart. The table gives the medians and the on/off ratio
  (the issue's bound: under 5 % slower), and checks that the "on" server's
  ``/metrics`` counted exactly the bookings it placed.

A new section is a function ``run_<name>(app, env, args) -> list[str]`` (the lines it
prints at the end) added to ``SECTIONS``, with its options in ``parse_args``.

    .venv/bin/python bench/scale.py [--only metrics] [--duration 20] [--clients 16]
                                    [--rounds 3] [--web-workers 2]

Talks to 127.0.0.1 only. Needs PostgreSQL (BENCH_DATABASE_URL) and Redis (--redis-url).
Check it works with ``--duration 3 --rounds 1``; full runs on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

METRICS_TOKEN = "bench-scrape-token"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_scale"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--duration", type=float, default=20.0, help="per booking run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    return parser.parse_args()


def rq_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "bookwell", "worker",
                             "--queues", "events,notifications,default", "--no-fork"],
                            cwd=common.REPO_ROOT, env={**env, "FLASK_APP": "wsgi"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- metrics: bookings with metrics on and off ----------------------------------------------

def scrape(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def bookings_counted(port: int) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(scrape(port)):
        for sample in family.samples:
            if (sample.name == "bookwell_bookings_total"
                    and sample.labels.get("event") == "placed"):
                return sample.value
    return 0.0


def run_metrics(app, env: dict, args) -> list[str]:
    from bench import booking

    data = booking.seed(app, booking.SHAPES["low"], customers=max(args.clients, 16))
    slots = data["bookings"]
    directory = tempfile.mkdtemp(prefix="bookwell-bench-metrics-")
    plain = {key: value for key, value in env.items()
             if key not in ("PROMETHEUS_MULTIPROC_DIR", "METRICS_ENABLED", "METRICS_TOKEN")}
    configs = {"metrics off": {**plain, "METRICS_ENABLED": "false"},
               "metrics on": {**plain, "METRICS_ENABLED": "true",
                              "PROMETHEUS_MULTIPROC_DIR": directory,
                              "METRICS_TOKEN": METRICS_TOKEN}}
    worker = rq_worker(configs["metrics off"])
    servers = {label: common.GunicornServer(env=config, workers=args.web_workers)
               for label, config in configs.items()}
    results: list[tuple[str, common.Stats]] = []
    try:
        for server in servers.values():
            server.start()
        for round_number in range(1, args.rounds + 1):
            # Each round in the other order: neither side always runs on a warmer machine.
            order = list(servers.items())[::1 if round_number % 2 else -1]
            for label, server in order:
                booking.wait_for_jobs(args.redis_url)

                def bodies(rng, slots=slots):
                    return {"offering_id": slots["offering"],
                            "slot_id": rng.choice(slots["slots"])}

                stats = booking.drive(server.port, "/api/v1/bookings", bodies,
                                      data["tokens"], clients=args.clients,
                                      duration=args.duration)
                results.append((label, stats))
                print(f"  round {round_number} {label:11} {stats.rps:7.1f} bookings/s "
                      f"p50 {stats.p50:6.1f} ms p99 {stats.p99:6.1f} ms "
                      f"statuses {stats.statuses}", flush=True)
        placed_on = sum(stats.statuses.get(201, 0) for label, stats in results
                        if label == "metrics on")
        counted = bookings_counted(servers["metrics on"].port)
    finally:
        for server in servers.values():
            server.stop()
        worker.terminate()
        worker.wait(30)

    def median_of(label: str, attribute: str) -> float:
        return statistics.median(getattr(stats, attribute) for name, stats in results
                                 if name == label)

    labels = ("metrics off", "metrics on")
    rows = [[name, *(median_of(label, attribute) for label in labels),
             median_of("metrics on", attribute) / median_of("metrics off", attribute)]
            for name, attribute in (("bookings/s", "rps"), ("p50 ms", "p50"),
                                    ("p99 ms", "p99"))]
    slower = 100 * (1 - rows[0][2] / rows[0][1])
    return [common.format_table(["bookings (medians)", *labels, "on/off"], rows),
            f"metrics on: {slower:.1f} % fewer bookings per second (the bound: under 5 %); "
            f"/metrics counted {counted:.0f} bookings placed of the {placed_on} answered "
            f"201 by that server" + ("" if counted == placed_on else "  MISMATCH")]


SECTIONS = {"metrics": run_metrics}


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url)
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url,
                                    JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"],
                                    SECRET_KEY=os.environ["SECRET_KEY"])
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    printed = []
    for name in args.only:
        print(f"{name}:", flush=True)
        started = time.monotonic()
        printed.append((name, SECTIONS[name](app, env, args), time.monotonic() - started))
    for name, lines, seconds in printed:
        print(f"\n{name} ({seconds:.0f} s, load average {common.load_average():.2f})")
        for line in lines:
            print(line)
    return 0


if __name__ == "__main__":
    common.run_main(main)
