"""What every benchmark shares: a database to seed, bulk COPY with progress, timing, a
gunicorn under test, a bounded HTTP load generator and worker memory (RSS).

Nothing here knows about a domain area: ``bench/catalog.py`` (and later benchmarks) pick
the tables, the data and the requests. The app is imported lazily, after
``prepare_environment()`` has pointed its instance directory somewhere temporary, so a
benchmark never writes secrets or files into the repository's ``instance/``.

Everything talks to 127.0.0.1 only.
"""
from __future__ import annotations

import gc

import http.client
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bookwell_bench"


def default_database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


# --------------------------------------------------------------------------- environment

def prepare_environment(instance_dir: str | None = None) -> str:
    """Settings every benchmark process (and its gunicorn) shares; returns the instance dir.

    Call before importing ``app``: ``config.py`` reads ``BOOKWELL_INSTANCE_DIR`` at import.
    """
    instance_dir = instance_dir or tempfile.mkdtemp(prefix="bookwell-bench-")
    os.environ["BOOKWELL_INSTANCE_DIR"] = instance_dir
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("JWT_SECRET_KEY", "bench-jwt-secret-not-for-production-0123456789")
    os.environ["FAB_UPDATE_PERMS"] = "False"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["CATALOG_CACHE_SECONDS"] = "0"
    os.environ.pop("REDIS_URL", None)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return instance_dir


def app_settings(database_url: str, instance_dir: str, *, redis_url: str | None = None,
                 **overrides) -> dict:
    """``create_app`` overrides for a benchmark: PostgreSQL, no cache, quiet logs. A Redis
    URL is only passed on when asked for; the catalog cache stays off either way."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": instance_dir,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "CATALOG_CACHE_SECONDS": 0,
        "LOG_LEVEL": "WARNING",
        "FAB_UPDATE_PERMS": False,
    }
    settings.update(overrides)
    return settings


def make_app(database_url: str, instance_dir: str, *, redis_url: str | None = None,
             **overrides):
    from app import create_app

    return create_app(app_settings(database_url, instance_dir, redis_url=redis_url,
                                   **overrides))


def server_environment(database_url: str, instance_dir: str, *,
                       redis_url: str | None = None, **extra: str) -> dict:
    """The environment gunicorn runs with: the same settings as the in-process app (this
    process's environment, so the secrets ``prepare_environment`` set too)."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update({
        "DATABASE_URL": database_url,
        "CATALOG_CACHE_SECONDS": "0",
        "FAB_UPDATE_PERMS": "False",
        "LOG_LEVEL": "WARNING",
        "BOOKWELL_INSTANCE_DIR": instance_dir,
        "PYTHONPATH": str(REPO_ROOT),
    })
    env.update(extra)
    return env


# --------------------------------------------------------------------------- database

def ensure_database(database_url: str) -> bool:
    """Create the PostgreSQL database named in the URL if missing; True when created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = url.database
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if not exists:
                quoted = '"' + name.replace('"', '""') + '"'
                conn.execute(text(f"CREATE DATABASE {quoted}"))
                return True
    finally:
        engine.dispose()
    return False


def bench_service(*, slug: str, name: str, offering_name: str, price_minor: int,
                  timezone: str = "UTC", offering_fields: dict | None = None,
                  **provider_fields) -> tuple[int, int]:
    """A provider selling one 60-minute EUR service, committed; (provider id, offering id).
    Call inside the app context."""
    from app.extensions import db
    from app.models import Offering, Provider

    provider = Provider(name=name, slug=slug, timezone=timezone, currency="EUR",
                        **provider_fields)
    db.session.add(provider)
    db.session.flush()
    # Bookable a little over a year ahead: some benchmarks book a year out.
    offering = Offering(provider_id=provider.id, kind="service", name=offering_name,
                        price_minor=price_minor, currency="EUR", duration_minutes=60,
                        **{"booking_horizon_days": 400, **(offering_fields or {})})
    db.session.add(offering)
    db.session.commit()
    return provider.id, offering.id


def bench_slot(provider_id: int, offering_id: int, *, days_ahead: int, capacity: int) -> int:
    """One hour-long time of the offering, on the hour ``days_ahead`` days from now,
    committed; its id. Call inside the app context."""
    from app.extensions import db
    from app.models import Slot
    from app.models.types import utcnow

    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=days_ahead)
    slot = Slot(provider_id=provider_id, offering_id=offering_id, starts_at=start,
                ends_at=start + timedelta(hours=1), capacity=capacity, booked=0)
    db.session.add(slot)
    db.session.commit()
    return slot.id


def bench_customer(email: str, first_name: str = "Bench", last_name: str = "Customer"):
    """A customer account (created once, found afterwards); call inside the app context."""
    from app.services.roles import CUSTOMER
    from app.services.users import ensure_user

    customer, _ = ensure_user(email=email, password="bench-password", role=CUSTOMER,
                              first_name=first_name, last_name=last_name)
    return customer


def migrate(app) -> None:
    """``flask db upgrade``, then the roles' permissions, as ``make migrate`` does."""
    from flask_migrate import upgrade

    from app.services.roles import sync_roles

    with app.app_context():
        upgrade()
        sync_roles(app.appbuilder)


def migrated_app(database_url: str, instance_dir: str, *, redis_url: str | None = None,
                 **overrides):
    """The app on ``database_url``, the database created if missing and migrated."""
    ensure_database(database_url)
    app = make_app(database_url, instance_dir, redis_url=redis_url, **overrides)
    migrate(app)
    gc.freeze()  # as wsgi.py does once the app is built
    return app


@contextmanager
def raw_connection(app, *, autocommit: bool = False):
    """The app engine's psycopg 3 connection (for COPY and VACUUM); committed on success."""
    from app.extensions import db

    with app.app_context():
        pooled = db.engine.raw_connection()
        conn = pooled.driver_connection
        previous = conn.autocommit
        try:
            if autocommit:
                conn.rollback()
                conn.autocommit = True
            yield conn
            if not autocommit:
                conn.commit()
        except BaseException:
            if not conn.autocommit:
                conn.rollback()
            raise
        finally:
            conn.autocommit = previous
            pooled.close()


class Progress:
    """One line per table: rows so far, share of the total, rows per second."""

    def __init__(self, label: str, total: int | None, *, every: float = 2.0,
                 stream=None) -> None:
        self.label, self.total, self.every = label, total, every
        self.stream = stream or sys.stderr
        self.count = 0
        self.started = self._last = time.perf_counter()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def add(self, n: int = 1) -> None:
        self.count += n
        now = time.perf_counter()
        if now - self._last >= self.every:
            self._last = now
            self._print(end="\r" if self._tty else "\n")

    def done(self) -> float:
        elapsed = time.perf_counter() - self.started
        self._print(end="\n", final=True)
        return elapsed

    def _print(self, *, end: str, final: bool = False) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        share = f" ({100 * self.count / self.total:5.1f}%)" if self.total else ""
        total = f" / {self.total:,}" if self.total else ""
        status = f"done in {elapsed:6.1f} s" if final else f"{elapsed:6.1f} s"
        print(f"  {self.label:<10} {self.count:>11,}{total}{share}  "
              f"{self.count / elapsed:>9,.0f} rows/s  {status}",
              end=end, file=self.stream, flush=True)


def copy_rows(conn, table: str, columns: Sequence[str], rows: Iterable[Sequence],
              *, total: int | None = None, label: str | None = None,
              report_every: int = 5_000) -> int:
    """Bulk-load ``rows`` with ``COPY table (columns) FROM STDIN``; prints progress."""
    progress = Progress(label or table, total)
    pending = 0
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                pending += 1
                if pending >= report_every:
                    progress.add(pending)
                    pending = 0
    progress.count += pending
    progress.done()
    return progress.count


def skip_foreign_key_checks(conn) -> bool:
    """For the rest of this transaction, skip the per-row foreign-key triggers (as
    ``pg_restore --disable-triggers`` does): about twice as fast a COPY into a table with
    foreign keys. Only for data that is consistent by construction. Needs a superuser;
    returns False (and changes nothing) otherwise."""
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
        if not (row and row[0]):
            return False
        cur.execute("SET LOCAL session_replication_role = replica")
    return True


def reset_sequences(conn, tables: Iterable[str]) -> None:
    """After COPY with explicit ids: each table's id sequence continues after max(id)."""
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")


def vacuum_analyze(conn, tables: Iterable[str]) -> None:
    """Statistics and the visibility map, as autovacuum would leave a settled table."""
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"VACUUM (ANALYZE) {table}")


# --------------------------------------------------------------------------- measuring

@dataclass
class Stats:
    """Latencies in milliseconds of one endpoint under one driver."""

    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU ms per request, by process group

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..100)."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def rps(self) -> float:
        return self.count / self.wall_s if self.wall_s else float("nan")

    def note_status(self, status: int, ok: Callable[[int], bool]) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if not ok(status):
            self.errors += 1


def _ok(status: int) -> bool:
    return 200 <= status < 300


class BenchmarkError(RuntimeError):
    """The app answered with errors: the figures would measure error pages."""


def run_main(main: Callable[[], int]) -> None:
    """A benchmark script's entry point: its exit code, or 2 with the reason when it
    stopped (``BenchmarkError``)."""
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark stopped: {error}", file=sys.stderr)
        sys.exit(2)


def preflight_in_process(client, paths: Iterable[str]) -> None:
    """One request per path; any 5xx stops the benchmark before it measures error pages."""
    for path in paths:
        response = client.get(path)
        if response.status_code >= 500:
            raise BenchmarkError(f"GET {path} answered {response.status_code} in-process: "
                                 f"{response.get_data(as_text=True)[:300]}")


def preflight_http(host: str, port: int, paths: Iterable[str], log_path: str = "") -> None:
    for path in paths:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status >= 500:
            tail = ""
            if log_path and os.path.exists(log_path):
                with open(log_path, errors="replace") as log:
                    tail = "".join(log.readlines()[-15:])
            raise BenchmarkError(f"GET {path} answered {response.status} through gunicorn: "
                                 f"{body[:300]!r}\n{tail}")


def run_in_process(client, paths: Sequence[str], *, warmup: int = 20,
                   ok: Callable[[int], bool] = _ok,
                   inspect: Callable[[str, object], None] | None = None) -> Stats:
    """GET every path with a Flask test client, one after another; warm-up not counted."""
    for path in itertools.islice(itertools.cycle(paths), warmup):
        client.get(path)
    stats = Stats()
    started = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        response = client.get(path)
        body = response.get_data()
        stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
        stats.note_status(response.status_code, ok)
        if inspect is not None:
            inspect(path, (response.status_code, response.headers, body))
    stats.wall_s = time.perf_counter() - started
    return stats


def run_http(host: str, port: int, paths: Sequence[str], *, concurrency: int,
             duration: float | None = None, warmup: int = 20,
             ok: Callable[[int], bool] = _ok) -> Stats:
    """Closed-loop load: ``concurrency`` threads, each with its own keep-alive connection,
    GET ``paths`` in turn (each once, or round and round for ``duration`` seconds)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("benchmarks only talk to the local machine")
    _drive(host, port, list(itertools.islice(itertools.cycle(paths), warmup)),
           concurrency=concurrency, duration=None, ok=ok, stats=Stats())
    stats = Stats()
    started = time.perf_counter()
    _drive(host, port, paths, concurrency=concurrency, duration=duration, ok=ok, stats=stats)
    stats.wall_s = time.perf_counter() - started
    return stats


def _drive(host, port, paths, *, concurrency, duration, ok, stats: Stats) -> None:
    if not paths:
        return
    counter = itertools.count()  # next() is atomic under the GIL
    deadline = None if duration is None else time.perf_counter() + duration
    lock = threading.Lock()

    def worker(_n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        latencies, statuses = [], []
        try:
            while True:
                i = next(counter)
                if deadline is None:
                    if i >= len(paths):
                        break
                elif time.perf_counter() >= deadline:
                    break
                path = paths[i % len(paths)]
                elapsed_ms, status = _timed_request(
                    conn, "GET", path, headers={"Accept": "application/json"})
                latencies.append(elapsed_ms)
                statuses.append(status)
        finally:
            conn.close()
            with lock:
                stats.latencies_ms.extend(latencies)
                for status in statuses:
                    stats.note_status(status, ok)

    _run_threads(worker, concurrency)


def _timed_request(conn: http.client.HTTPConnection, method: str, path: str, *,
                   body: str | None = None, headers: dict) -> tuple[float, int]:
    """(milliseconds, status) of one request; a failed connection counts as status 599
    and is closed, so the next request reconnects."""
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        status = 599
    return (time.perf_counter() - t0) * 1000, status


def _run_threads(target: Callable[[int], None], count: int) -> None:
    """``target(n)`` for n in 0..count-1, each in its own thread; waits for all."""
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def post_for(port: int | Sequence[int], path: str,
             request_for: Callable[[int, int], tuple[str, dict]], *,
             clients: int, duration: float, ok: Callable[[int], bool] = _ok) -> Stats:
    """Closed loop: ``clients`` threads, each with its own keep-alive connection, POST to
    ``path`` for ``duration`` seconds; ``request_for(client, i)`` gives each request's body
    and headers. Several ports (servers): each client has a connection to each and sends
    its requests to them in turn, half the clients starting on the second."""
    ports = [port] if isinstance(port, int) else list(port)
    stats, lock = Stats(), threading.Lock()
    deadline = time.perf_counter() + duration

    def client(n: int) -> None:
        conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=30) for p in ports]
        latencies, statuses, i = [], [], 0
        while time.perf_counter() < deadline:
            i += 1
            body, headers = request_for(n, i)
            elapsed_ms, status = _timed_request(conns[(n + i) % len(conns)], "POST", path,
                                                body=body, headers=headers)
            latencies.append(elapsed_ms)
            statuses.append(status)
        for conn in conns:
            conn.close()
        with lock:
            stats.latencies_ms.extend(latencies)
            for status in statuses:
                stats.note_status(status, ok)

    started = time.perf_counter()
    _run_threads(client, clients)
    stats.wall_s = time.perf_counter() - started
    return stats


def median(values: Iterable[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------- processes

def rss_kb(pid: int) -> int | None:
    """Resident memory of a process in KiB (VmRSS), or None when it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def cpu_seconds_by_pid() -> dict[int, tuple[str, float]]:
    """Every process's command name and CPU time so far (user + system), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                raw = stat.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        seconds[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return seconds


def cpu_ms_per_request(before: dict, after: dict, requests: int,
                       groups: dict[str, Callable[[int, str], bool]]) -> dict[str, float]:
    """CPU milliseconds per request that each group of processes spent between two
    ``cpu_seconds_by_pid`` snapshots; a group is a test on (pid, command name)."""
    spent = dict.fromkeys(groups, 0.0)
    for pid, (name, seconds) in after.items():
        delta = seconds - before.get(pid, (name, 0.0))[1]
        for group, member in groups.items():
            if delta > 0 and member(pid, name):
                spent[group] += delta
                break
    return {group: 1000 * total / max(requests, 1) for group, total in spent.items()}


def child_pids(parent: int) -> list[int]:
    """Direct children of ``parent`` (gunicorn's workers are the master's children)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue
        if int(fields[1]) == parent:
            children.append(int(entry))
    return sorted(children)


def load_average() -> float:
    """The machine's 1-minute load average: other people's work shows up in the figures."""
    try:
        with open("/proc/loadavg") as loadavg:
            return float(loadavg.read().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RssRecord:
    start_kb: int | None = None
    max_kb: int = 0
    end_kb: int | None = None


class RssSampler:
    """Samples the RSS of each gunicorn worker: at ``mark_start``, every ``interval``
    seconds while running, and at ``mark_end``. Workers that appear later (a restart)
    get their own record, so nothing is hidden."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.25) -> None:
        self._pids, self.interval = pids, interval
        self.records: dict[int, RssRecord] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self, *, end: bool = False) -> None:
        for pid in self._pids():
            kb = rss_kb(pid)
            if kb is None:
                continue
            record = self.records.setdefault(pid, RssRecord())
            if record.start_kb is None:  # at mark_start, or a worker's first sighting
                record.start_kb = kb
            record.max_kb = max(record.max_kb, kb)
            if end:
                record.end_kb = kb

    def mark_start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def mark_end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample(end=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @property
    def max_mb(self) -> float:
        return max((r.max_kb for r in self.records.values()), default=0) / 1024


class GunicornServer:
    """``gunicorn wsgi:app`` on a free 127.0.0.1 port; a context manager that stops it."""

    def __init__(self, *, env: dict, workers: int = 2, app: str = "wsgi:app",
                 extra_args: Sequence[str] = (), log_path: str | None = None) -> None:
        self.env, self.workers, self.app, self.extra_args = env, workers, app, extra_args
        self.host, self.port = "127.0.0.1", free_port()
        self.log_path = log_path or os.path.join(
            env.get("BOOKWELL_INSTANCE_DIR", tempfile.gettempdir()), "gunicorn.log")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> GunicornServer:
        command = [sys.executable, "-m", "gunicorn", self.app,
                   "--bind", f"{self.host}:{self.port}", "--workers", str(self.workers),
                   "--no-control-socket", "--log-level", "warning", *self.extra_args]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            if len(self.worker_pids()) >= self.workers and self._answers("/healthz"):
                # Every worker imports the app on its own: wait until each one answers.
                if self._all_workers_ready(deadline):
                    return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout:.0f} s; see {self.log_path}")

    def _answers(self, path: str) -> bool:
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
            conn.request("GET", path)
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def _all_workers_ready(self, deadline: float) -> bool:
        # A worker answers only once its app is built; hit /healthz a few times in
        # parallel so that both have served before we measure their starting RSS.
        while time.monotonic() < deadline:
            results = []
            threads = [threading.Thread(target=lambda: results.append(self._answers("/healthz")))
                       for _ in range(self.workers * 2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if all(results):
                return True
            time.sleep(0.25)
        return False

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid) if self.process else []

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful shutdown), then SIGKILL if it hangs. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------- reporting

def format_table(headers: Sequence[str], rows: Sequence[Sequence], *,
                 markdown: bool = False) -> str:
    """Right-aligned columns (the first left-aligned); markdown pipes when asked."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return ("| " + " | ".join(parts) + " |") if markdown else "  ".join(parts)

    out = [line(cells[0])]
    if markdown:
        out.append("|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2))
                                  for i, w in enumerate(widths)) + "|")
    else:
        out.append("  ".join("-" * w for w in widths))
    out.extend(line(row) for row in cells[1:])
    return "\n".join(out)


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.1f}"
    return str(value)


def chunks(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
