"""The alert rules and Prometheus's configuration checked by Prometheus's own promtool:
the rules load, their unit tests (alerts.test.yaml: each alert fires on the series it
should, with its labels and text, and stays quiet otherwise) pass, and the Compose
platform's prometheus.yml is valid. promtool comes with Debian's ``prometheus`` package,
which ``.ci/run`` installs; without it these tests fail and say so."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "observability" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed: `apt-get install prometheus` (Debian) puts "
                    "it on the PATH; .ci/run does so")
    return found


def run(promtool: str, *arguments: str, cwd: Path = PROMETHEUS):
    return subprocess.run([promtool, *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_alert_rules_load(promtool):
    result = run(promtool, "check", "rules", "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alert_rules_unit_tests_pass(promtool):
    result = run(promtool, "test", "rules", "alerts.test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_prometheus_configuration_is_valid(promtool):
    result = run(promtool, "check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_unit_test_that_expects_the_wrong_thing_fails(promtool, tmp_path):
    # The check can fail: the rules' tests with one expected label changed.
    for name in ("alerts.yaml", "alerts.test.yaml"):
        shutil.copy(PROMETHEUS / name, tmp_path / name)
    tests = (tmp_path / "alerts.test.yaml").read_text()
    assert "severity: critical" in tests
    (tmp_path / "alerts.test.yaml").write_text(
        tests.replace("severity: critical", "severity: nobody-looks", 1))
    result = run(promtool, "test", "rules", "alerts.test.yaml", cwd=tmp_path)
    assert result.returncode != 0
