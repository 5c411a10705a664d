"""The layer contracts in ``.importlinter`` hold, and each one would catch a break.

``make test`` runs ``lint-imports`` before pytest; these tests make pytest fail too, so a
layer break cannot pass in a run that skips the Makefile.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("app", "views", "api", "jobs")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_code_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory) -> Path:
    """The four packages and the contracts, to add one bad import to at a time."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / ".importlinter", root)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return root


BREAKS = {
    "views/uses_the_api.py": ("from api import fields\n",
                              "The console and the API are independent edges"),
    "api/uses_the_console.py": ("import views.base\n",
                                "The console and the API are independent edges"),
    "app/services/enqueues_by_import.py": ("from jobs import payments\n",
                                           "Nothing in app imports the edges"),
    "app/services/calls_stripe.py": ("import stripe\n",
                                     "Only app.gateways talks to outside services"),
    "views/sends_mail.py": ("import smtplib\n",
                            "Only app.gateways talks to outside services"),
    "jobs/geocodes.py": ("import googlemaps\n",
                         "Only app.gateways talks to outside services"),
    "app/models/asks_a_service.py": ("from app.services import money\n",
                                     "Models never import services"),
}


@pytest.mark.parametrize("path", sorted(BREAKS))
def test_a_contract_catches_the_break(copy_of_the_code, path):
    source, contract = BREAKS[path]
    module = copy_of_the_code / path
    module.write_text(source)
    try:
        result = lint_imports(copy_of_the_code)
    finally:
        module.unlink()
    assert result.returncode != 0, result.stdout
    assert f"{contract}" in result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert len(broken) == 1 and broken[0].startswith(contract), result.stdout
    assert path[:-3].replace("/", ".") in result.stdout
