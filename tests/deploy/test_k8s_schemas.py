"""Every manifest validates against the Kubernetes JSON schemas that kubernetes-validate ships (strict: an unknown
field is an error), for the oldest and the newest Kubernetes this deployment targets. Nothing is downloaded."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy import k8s

VERSIONS = ("1.30.0", "1.37.0")


def validate(*paths: Path, version: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(k8s.tool("kubernetes-validate")), "--strict", "--kubernetes-version", version,
                           *map(str, paths)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates(version: str) -> None:
    result = validate(*k8s.files(), version=version)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in (result.stdout + result.stderr).splitlines() if " passed for resource " in line]
    assert len(passed) == len(k8s.documents()), result.stdout + result.stderr


def test_a_misspelt_field_fails(tmp_path: Path) -> None:
    doc = k8s.named("Deployment", "credit-rasa")
    doc["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {"httpGet": {"path": "/", "port": "http"}}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = validate(bad, version=VERSIONS[-1])
    assert result.returncode != 0 and "readinessprobe" in result.stdout + result.stderr
