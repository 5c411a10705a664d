"""compose.yaml, checked without a container engine: valid by the Compose specification's
JSON schema (deploy/compose/schema/), one app image for every app process, the release
before everything that uses the database, workers that cover every queue with payments
apart from mail, and app settings that config.py reads."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from app.jobqueue import QUEUES
from config import Config
from tests.deploy.cli import bookwell_commands, options

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "deploy" / "compose" / "schema" / "compose-spec.json"
APP_PROCESSES = {"web", "scheduler", "release"}  # plus every worker-*


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    # The schema names draft-07 by an https address that jsonschema does not look up:
    # say which draft it is rather than let it guess.
    assert "draft-07" in schema["$schema"]
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def workers(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in services(compose).items()
            if s.get("command", [None])[0] == "worker"}


def app_services(compose: dict) -> dict[str, dict]:
    image = services(compose)["release"]["image"]
    return {name: s for name, s in services(compose).items() if s.get("image") == image}


def test_valid_by_the_compose_specification(compose, validator):
    assert [error.message for error in validator.iter_errors(compose)] == []


def test_the_schema_check_reports_mistakes(compose, validator):
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["depends_on"]["release"]["condition"] = "service_finished"
    broken["services"]["worker-payments"]["helthcheck"] = {"test": ["CMD", "true"]}
    assert len(list(validator.iter_errors(broken))) >= 2


def test_the_whole_platform_is_there(compose):
    names = set(services(compose))
    assert {"web", "scheduler", "release", "postgres", "redis", "opensearch", "mailpit",
            "stripe"} <= names
    assert workers(compose)


def test_every_app_process_runs_the_one_image_built_once(compose):
    apps = app_services(compose)
    assert set(apps) == APP_PROCESSES | set(workers(compose)) | {"stripe"}
    built = [name for name, service in services(compose).items() if "build" in service]
    assert built == ["release"]
    assert (ROOT / services(compose)["release"]["build"]["context"] / "Dockerfile").exists()


def test_the_release_runs_before_web_workers_and_scheduler(compose):
    release = services(compose)["release"]
    assert release["command"][0] == "release" and release["restart"] == "no"
    commands = bookwell_commands()
    for extra in release["command"][1:]:
        assert extra in commands, f"flask bookwell {extra} does not exist"
    for name in {"web", "scheduler"} | set(workers(compose)):
        waits_for = services(compose)[name]["depends_on"]
        assert waits_for["release"]["condition"] == "service_completed_successfully", name


def test_postgres_and_redis_are_waited_for_until_healthy(compose):
    for name in ("postgres", "redis", "opensearch"):
        assert services(compose)[name]["healthcheck"]["test"], name
    for name, service in app_services(compose).items():
        if name == "stripe":
            continue  # no database: it only needs to answer the app
        for dependency in ("postgres", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy", name
    assert services(compose)["release"]["depends_on"]["opensearch"]["condition"] == \
        "service_healthy"  # it rebuilds the search index


def test_workers_cover_every_queue_and_keep_payments_apart_from_mail(compose):
    worker_options = options(bookwell_commands()["worker"])
    served: list[str] = []
    for name, service in workers(compose).items():
        arguments = service["command"][1:]
        assert {a for a in arguments if a.startswith("--")} <= worker_options, name
        queues = arguments[arguments.index("--queues") + 1].split(",")
        assert not ({"payments", "events"} & set(queues) and "notifications" in queues), name
        served += queues
    assert sorted(served) == sorted(QUEUES)  # each queue once, none unknown


def config_names() -> set[str]:
    """Every environment variable name config.py reads, by reading them."""

    class Recording(dict):
        def __init__(self):
            super().__init__(SECRET_KEY="x", JWT_SECRET_KEY="x")  # no files generated
            self.read: set[str] = set()

        def get(self, key, default=None):
            self.read.add(key)
            return super().get(key, default)

    environ = Recording()
    Config(environ)
    return environ.read | {"BOOKWELL_INSTANCE_DIR"}  # read once, when config.py loads


# Read by the worker command (its --metrics-port) and by prometheus-client, not config.py:
# the README's table of what the tooling reads.
WORKER_METRICS_VARIABLES = {"METRICS_WORKER_PORT", "PROMETHEUS_MULTIPROC_DIR"}


def test_app_settings_are_names_config_reads(compose):
    known = config_names()
    assert {"DATABASE_URL", "STRIPE_API_BASE", "MAIL_SERVER"} <= known
    readme = (ROOT / "README.md").read_text()
    assert all(f"| `{name}` |" in readme for name in WORKER_METRICS_VARIABLES)
    for name, service in app_services(compose).items():
        allowed = known | (WORKER_METRICS_VARIABLES if name.startswith("worker-") else set())
        unknown = set(service.get("environment") or {}) - allowed
        assert not unknown, f"{name}: {sorted(unknown)} are not settings of config.py"


def test_every_worker_serves_its_metrics_and_prometheus_scrapes_them(compose):
    prometheus = yaml.safe_load(
        (ROOT / "deploy/observability/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    [workers_sd] = jobs["bookwell-worker"]["dns_sd_configs"]
    assert sorted(workers_sd["names"]) == sorted(workers(compose))
    for service in workers(compose).values():
        assert service["environment"]["METRICS_WORKER_PORT"] == str(workers_sd["port"])
        assert service["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    [web_sd] = jobs["bookwell-web"]["dns_sd_configs"]
    assert web_sd["names"] == ["web"] and web_sd["port"] == 8000
    # The alert rules watch up{job=~"bookwell.*"}: every scrape job is named so.
    assert all(name.startswith("bookwell-") for name in jobs)


def test_the_observability_profile_finds_its_files(compose):
    """Prometheus, Grafana and Jaeger start only with the profile; the files they read are
    mounted where their configuration looks."""
    observability = {name for name, service in services(compose).items()
                     if "observability" in service.get("profiles", [])}
    assert observability == {"prometheus", "grafana", "jaeger"}
    assert all("profiles" not in service for name, service in services(compose).items()
               if name not in observability)

    def mounts(service: str) -> dict[str, Path]:
        result = {}
        for volume in services(compose)[service]["volumes"]:
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
                result[target] = ROOT / source
        return result

    prometheus_mounts = mounts("prometheus")
    config = yaml.safe_load(prometheus_mounts["/etc/prometheus/prometheus.yml"].read_text())
    for rule_file in config["rule_files"]:
        assert prometheus_mounts[rule_file].name == "alerts.yaml"
    token_file = config["scrape_configs"][0]["authorization"]["credentials_file"]
    [token] = [c for c in services(compose)["prometheus"]["configs"]
               if c["target"] == token_file]
    assert compose["configs"][token["source"]]["content"] == \
        services(compose)["web"]["environment"]["METRICS_TOKEN"]

    grafana_mounts = mounts("grafana")
    provisioning = grafana_mounts["/etc/grafana/provisioning"]
    [provider] = yaml.safe_load(
        (provisioning / "dashboards/bookwell.yaml").read_text())["providers"]
    dashboard_target = f"{provider['options']['path']}/bookwell.json"
    assert grafana_mounts[dashboard_target].name == "bookwell.json"
    [source] = yaml.safe_load(
        (provisioning / "datasources/prometheus.yaml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert services(compose)["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]


def test_secrets_are_placeholders_the_environment_overrides(compose):
    environment = services(compose)["web"]["environment"]
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert re.fullmatch(rf"\$\{{{name}:-placeholder-[a-z-]+\}}", environment[name]), name
    assert "${POSTGRES_PASSWORD:-placeholder-" in environment["DATABASE_URL"]
    for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert re.fullmatch(rf"\$\{{{name}:-(sk|pk|whsec)_(test_)?local(_demo)?\}}",
                            environment[name]), name


def test_the_local_stripe_server_and_the_app_find_each_other(compose, app):
    stripe = services(compose)["stripe"]["command"]
    assert stripe[0] == "local-stripe"
    port = stripe[stripe.index("--port") + 1]
    assert services(compose)["web"]["environment"]["STRIPE_API_BASE"] == \
        f"${{STRIPE_API_BASE-http://stripe:{port}}}"
    webhook = stripe[stripe.index("--webhook-url") + 1]
    assert webhook.startswith("http://web:8000/")
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert webhook.removeprefix("http://web:8000") in routes
