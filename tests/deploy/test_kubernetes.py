"""deploy/kubernetes: each overlay renders with kustomize and every rendered object is valid
against the Kubernetes schemas (offline, kubernetes-validate); the KEDA objects, which
those schemas do not describe, are checked by hand; and every setting config.py reads is
given to the pods by the ConfigMap or the Secret."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from flask import Flask

from app.jobqueue import QUEUES
from config import Config

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("staging", "production")
# The oldest Kubernetes the manifests are written for (the pre-stop `sleep` action and
# `matchLabelKeys` are on by default from 1.30), and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
SECRET_NAME = "bookwell-secrets"
# Read by config.py but given to no pod, with the reason. Keep this short.
NOT_ON_KUBERNETES: dict[str, str] = {
    "PORT": "`make run`'s port, only a default for PUBLIC_BASE_URL, which the pods set",
}
# In README's configuration table but not read by config.py.
README_ONLY = {"LOCAL_PAYPAL_PORT": "`make run` only: the port of its local PayPal server",
               "LOCAL_STRIPE_PORT": "`make run` only: the port of its local Stripe server"}
# In the Secret but not read by config.py.
SECRET_ONLY = {"REDIS_PASSWORD": "KEDA's redis scaler (components/keda) takes no URL"}


@pytest.fixture(autouse=True)
def clean_state():
    """Nothing here uses the app or its database: the suite-wide clean-up, which builds
    the app to empty the tables, is not needed."""
    yield


def _kustomize_command() -> list[str]:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    pytest.fail("neither kubectl (with its built-in kustomize) nor kustomize is on PATH: "
                "install one of them to render deploy/kubernetes (no PyPI package ships "
                "kustomize for this Python)")


def render(path: Path) -> list[dict]:
    result = subprocess.run([*_kustomize_command(), str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"kustomize failed on {path}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request):
    return request.param, render(KUBERNETES / "overlays" / request.param)


@pytest.fixture(scope="module")
def production():
    return render(KUBERNETES / "overlays" / "production")


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def is_custom(obj: dict) -> bool:
    return obj["apiVersion"].startswith("keda.sh/")


def pod_specs(objects: list[dict]):
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]


def worker_queues(deployment: dict) -> list[str]:
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    (option,) = [a for a in args if a.startswith("--queues=")]
    return option.removeprefix("--queues=").split(",")


# --- schemas -------------------------------------------------------------------------

def test_every_rendered_object_is_valid_for_kubernetes(overlay):
    name, objects = overlay
    core = [o for o in objects if not is_custom(o)]
    assert {"Deployment", "Job", "Service", "Ingress", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= {o["kind"] for o in core}
    for version in KUBERNETES_VERSIONS:
        for obj in core:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name}: {obj['kind']} {obj['metadata']['name']} is invalid "
                            f"for Kubernetes {version}: {exc.message} at "
                            f"{'/'.join(map(str, exc.path))}")


def test_the_validator_rejects_a_misspelt_field():
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "x"},
                  "spec": {"replica": 2, "selector": {"matchLabels": {"a": "b"}},
                           "template": {"metadata": {"labels": {"a": "b"}},
                                        "spec": {"containers": [{"name": "x",
                                                                 "image": "x"}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_only_keda_objects_are_left_to_the_hand_checks(overlay):
    _, objects = overlay
    assert {o["kind"] for o in objects if is_custom(o)} <= {"ScaledObject",
                                                            "TriggerAuthentication"}


def test_keda_scaled_objects_watch_their_workers_queues(production):
    """KEDA's CRDs are not in the core schemas: their shape is checked here."""
    scaled = of_kind(production, "ScaledObject")
    workers = [d for d in of_kind(production, "Deployment")
               if d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"]
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled} == {
        w["metadata"]["name"] for w in workers}
    auth_names = {t["metadata"]["name"] for t in of_kind(production, "TriggerAuthentication")}
    for obj in scaled:
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        spec = obj["spec"]
        worker = named(production, "Deployment", spec["scaleTargetRef"]["name"])
        # KEDA owns the count: an applied `replicas` would reset it on every deploy.
        assert "replicas" not in worker["spec"]
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        watched = []
        for trigger in spec["triggers"]:
            assert trigger["type"] == "redis"
            metadata = trigger["metadata"]
            assert re.fullmatch(r"[\w.-]+:\d+", metadata["address"]), metadata["address"]
            assert metadata["databaseIndex"].isdigit()
            assert int(metadata["listLength"]) > 0
            assert metadata["listName"].startswith("rq:queue:")
            watched.append(metadata["listName"].removeprefix("rq:queue:"))
            assert trigger["authenticationRef"]["name"] in auth_names
        assert watched == worker_queues(worker)
    for auth in of_kind(production, "TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["name"] == SECRET_NAME and ref["key"] in secret_keys()


# --- workloads -----------------------------------------------------------------------

def test_every_queue_is_served_by_exactly_one_worker_group(overlay):
    _, objects = overlay
    groups = [worker_queues(d) for d in of_kind(objects, "Deployment")
              if d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"]
    assert sorted(q for group in groups for q in group) == sorted(QUEUES)
    # Payments never wait behind another queue's jobs.
    assert ["payments"] in groups


def test_web_probes_use_the_apps_health_routes(overlay):
    from api.health import blp

    probe_app = Flask("probes")
    probe_app.register_blueprint(blp)
    routes = {rule.rule for rule in probe_app.url_map.iter_rules()}
    _, objects = overlay
    web = named(objects, "Deployment", "bookwell-web")["spec"]["template"]["spec"]
    (container,) = web["containers"]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert f"--bind=0.0.0.0:{port}" in container["args"]
    probes = {kind: container[kind]["httpGet"]["path"]
              for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes == {"startupProbe": "/healthz", "livenessProbe": "/healthz",
                      "readinessProbe": "/readyz"}
    assert set(probes.values()) <= routes


def test_pods_run_unprivileged_with_limits_and_a_writable_tmp(overlay):
    _, objects = overlay
    for name, spec in pod_specs(objects):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        temporary = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{name}/{container['name']}"
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), where
            assert any(m["mountPath"] == "/tmp" and m["name"] in temporary
                       for m in container["volumeMounts"]), where


def test_pods_get_every_setting_and_long_running_ones_wait_for_the_schema(overlay):
    _, objects = overlay
    (config_map,) = of_kind(objects, "ConfigMap")
    for name, spec in pod_specs(objects):
        for container in spec.get("initContainers", []) + spec["containers"]:
            sources = container["envFrom"]
            assert {"configMapRef": {"name": config_map["metadata"]["name"]}} in sources, name
            assert {"secretRef": {"name": SECRET_NAME}} in sources, name
    for deployment in of_kind(objects, "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        assert [c["command"] for c in spec["initContainers"]] == [
            ["python", "bin/wait-for-schema", "--timeout=900"]]
        assert spec["topologySpreadConstraints"], deployment["metadata"]["name"]
    release = named(objects, "Job", "bookwell-release")["spec"]["template"]["spec"]
    script = release["containers"][0]["args"][0].split("\n")
    assert script[:2] == ["flask db upgrade", "flask bookwell sync-roles"]


def test_web_scales_on_cpu_and_every_deployment_has_a_disruption_budget(overlay):
    _, objects = overlay
    (hpa,) = of_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "bookwell-web"
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert "replicas" not in named(objects, "Deployment", "bookwell-web")["spec"]
    budgets = {tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
               for p in of_kind(objects, "PodDisruptionBudget")}
    for deployment in of_kind(objects, "Deployment"):
        if deployment["metadata"]["name"] == "bookwell-scheduler":
            continue  # one pod by default; two are safe, and need no budget
        selector = tuple(sorted(deployment["spec"]["selector"]["matchLabels"].items()))
        assert selector in budgets, deployment["metadata"]["name"]


def test_network_policy_lets_only_the_ingress_reach_the_web_pods(overlay):
    _, objects = overlay
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objects, "NetworkPolicy")}
    deny = policies["bookwell-default-deny-ingress"]
    assert deny["podSelector"] == {} and "ingress" not in deny
    web = policies["bookwell-web-from-ingress"]
    assert web["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    assert [p["port"] for rule in web["ingress"] for p in rule["ports"]] == ["http"]
    egress_ports = {p["port"] for rule in policies["bookwell-egress"]["egress"]
                    for p in rule["ports"]}
    assert {53, 5432, 6379, 443} <= egress_ports


# --- settings ------------------------------------------------------------------------

def config_py_settings() -> set[str]:
    """Every environment variable config.py reads: ``env.get("X")``,
    ``os.environ.get("X")`` and ``_env_<kind>_from(env, "X", default)``."""
    names = set()
    for node in ast.walk(ast.parse((ROOT / "config.py").read_text())):
        if not isinstance(node, ast.Call):
            continue
        func, args = node.func, node.args
        if isinstance(func, ast.Attribute) and func.attr == "get" and args:
            first = args[0]
        elif isinstance(func, ast.Name) and func.id.startswith("_env_") and len(args) > 1:
            first = args[1]
        else:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def secret_example() -> dict[str, str]:
    """The keys and placeholder values of secrets.env.example."""
    lines = (KUBERNETES / "secrets.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines
                if line.strip() and not line.lstrip().startswith("#"))


def secret_keys() -> list[str]:
    return list(secret_example())


def readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    return {name for row in table.splitlines()[2:]
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_settings_parser_finds_config_pys_reads():
    names = config_py_settings()
    assert {"DATABASE_URL", "BOOKWELL_INSTANCE_DIR", "HOLD_MINUTES", "MAIL_USE_TLS",
            "OUTSIDE_CALENDAR_MAX_BYTES"} <= names
    assert len(names) > 100


def test_every_setting_of_config_py_is_in_the_config_map_or_the_secret(overlay):
    _, objects = overlay
    (config_map,) = of_kind(objects, "ConfigMap")
    in_config_map = set(config_map["data"])
    in_secret = set(secret_keys())
    settings = config_py_settings()
    assert not in_config_map & in_secret, "a setting in both: the Secret would win silently"
    missing = settings - in_config_map - in_secret - set(NOT_ON_KUBERNETES)
    assert not missing, f"not given to the pods: {sorted(missing)}"
    assert not in_config_map - settings, "ConfigMap keys config.py never reads"
    assert not in_secret - settings - set(SECRET_ONLY), "Secret keys config.py never reads"


def test_the_settings_make_a_production_configuration(overlay):
    """The values parse as config.py expects (a number where it wants one, ...) and make
    a production set-up behind the ingress."""
    _, objects = overlay
    (config_map,) = of_kind(objects, "ConfigMap")
    config = Config({**config_map["data"], **secret_example()})
    assert config.BOOKWELL_ENV == "production" and config.SESSION_COOKIE_SECURE
    assert config.CONSOLE_REQUIRE_2FA and config.WEBHOOK_REQUIRE_HTTPS
    assert not config.FAB_UPDATE_PERMS and not config.PAYMENT_TEST_CARDS
    assert config.PROXY_FIX_HOPS == 1
    assert config.PUBLIC_BASE_URL.startswith("https://")
    assert config.S3_BUCKET, "pods share no disk: receipts and pictures go to S3"
    assert config.PAYPAL_JS_SDK_URL == "https://www.paypal.com/sdk/js"
    assert config.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg://")
    assert config_map["data"]["BOOKWELL_INSTANCE_DIR"].startswith("/tmp/")


def test_every_setting_in_the_readme_table_is_given_to_the_pods(overlay):
    _, objects = overlay
    (config_map,) = of_kind(objects, "ConfigMap")
    documented = readme_settings()
    assert {"DATABASE_URL", "WEBHOOK_REQUIRE_HTTPS", "S3_SECRET_ACCESS_KEY"} <= documented
    missing = documented - set(config_map["data"]) - set(secret_keys()) - set(README_ONLY)
    assert not missing, f"in README's table but not given to the pods: {sorted(missing)}"


def test_secret_values_in_the_repository_are_placeholders():
    for key, value in secret_example().items():
        assert value == "" or "change-me" in value, f"{key} holds a real-looking value"
    rendered = render(KUBERNETES / "overlays" / "production")
    assert not of_kind(rendered, "Secret"), "Secrets are made outside the repository"
