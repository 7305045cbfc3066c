"""checkov scans deploy/k8s/ and the Dockerfile: no failed check except the commented waivers.

checkov runs from .venv-tools (scripts/setup_tools_venv.sh: it conflicts with Rasa's pins in .venv), with
--skip-download: its built-in checks only, nothing fetched.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Set, Tuple

import yaml

from tests.deploy import k8s

WAIVERS = Path(__file__).with_name("checkov_waivers.yaml")


def scan(*target: str, framework: str) -> List[Dict]:
    result = subprocess.run([str(k8s.tool("checkov")), *target, "--framework", framework, "--skip-download",
                             "--quiet", "--output", "json"], cwd=k8s.ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert reports and all(r["summary"]["parsing_errors"] == 0 for r in reports), result.stdout[-2000:]
    return reports


def failures(reports: List[Dict]) -> Set[Tuple[str, str]]:
    return {(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]}


def test_checkov_finds_nothing_but_the_waived() -> None:
    k8s_reports = scan("-d", "deploy/k8s", framework="kubernetes")
    docker_reports = scan("-f", "Dockerfile", framework="dockerfile")
    assert sum(r["summary"]["resource_count"] for r in k8s_reports) >= len(k8s.documents())  # every document
    assert sum(r["summary"]["passed"] for r in docker_reports) > 50  # the Dockerfile really was scanned
    found = failures(k8s_reports) | failures(docker_reports)
    waivers = yaml.safe_load(WAIVERS.read_text(encoding="utf-8"))
    assert all(w.get("reason", "").strip() for w in waivers), "every waiver says why"

    def waived(check: str, resource: str) -> bool:
        return any(w["check"] == check and (w["resources"] == "*" or resource in w["resources"]) for w in waivers)

    unwaived = sorted(f for f in found if not waived(*f))
    assert not unwaived, f"checkov failures without a waiver: {unwaived}"
    for w in waivers:
        hits = {r for c, r in found if c == w["check"]}
        wanted = hits if w["resources"] == "*" else set(w["resources"])
        assert hits and wanted <= hits, f"waiver {w['check']} {w['resources']} no longer needed: remove it"


def test_checkov_does_fail_an_unsafe_workload(tmp_path: Path) -> None:
    bad = k8s.named("Deployment", "credit-actions")
    container = bad["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"privileged": True}
    del container["resources"]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    shutil.copy(k8s.ROOT / "Dockerfile", tmp_path / "Dockerfile")
    found = {check for check, _ in failures(scan("-d", str(tmp_path), framework="kubernetes"))}
    assert {"CKV_K8S_16", "CKV_K8S_22", "CKV_K8S_13"} <= found  # privileged, writable root, no memory limit
