"""Reading deploy/k8s/ for the deployment tests: documents, pod templates, containers, their environment."""
from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TOOLS = ROOT / ".venv-tools" / "bin"
WORKDIR = "/app"  # the Dockerfile's WORKDIR


def tool(name: str) -> Path:
    path = TOOLS / name
    assert path.exists(), f"{path} is missing: run `make tools-venv` (scripts/setup_tools_venv.sh) first"
    return path


def files() -> List[Path]:
    return sorted(K8S.glob("*.yaml"))


@functools.lru_cache(maxsize=1)
def _parsed() -> Tuple[Dict[str, Any], ...]:
    docs: List[Dict[str, Any]] = []
    for path in files():
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return tuple(docs)


def documents() -> List[Dict[str, Any]]:
    """Every document of deploy/k8s/ (a fresh copy: tests may change what they get)."""
    return copy.deepcopy(list(_parsed()))


def of_kind(kind: str) -> List[Dict[str, Any]]:
    return [d for d in documents() if d["kind"] == kind]


def named(kind: str, name: str) -> Dict[str, Any]:
    found = [d for d in of_kind(kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_spec(doc: Dict[str, Any]) -> Dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def workloads() -> List[Dict[str, Any]]:
    return [d for d in documents() if d["kind"] in ("Deployment", "Job", "CronJob")]


def config_map() -> Dict[str, str]:
    (cm,) = of_kind("ConfigMap")
    return {k: str(v) for k, v in cm["data"].items()}


@dataclass(frozen=True)
class Container:
    workload: str
    spec: Dict[str, Any]
    init: bool = False

    @property
    def argv(self) -> List[str]:
        return [str(a) for a in [*self.spec.get("command", []), *self.spec.get("args", [])]]

    def env_names(self) -> Set[str]:
        names = {e["name"] for e in self.spec.get("env", [])}
        if any(src.get("configMapRef") for src in self.spec.get("envFrom", [])):
            names |= set(config_map())
        return names

    def env(self, secrets: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """The environment Kubernetes would give the process; secret keys from `secrets` (absent: left out)."""
        out: Dict[str, str] = {}
        if any(src.get("configMapRef") for src in self.spec.get("envFrom", [])):
            out.update(config_map())
        for entry in self.spec.get("env", []):
            if "value" in entry:
                out[entry["name"]] = str(entry["value"])
            elif secrets is not None and entry["valueFrom"]["secretKeyRef"]["key"] in secrets:
                out[entry["name"]] = secrets[entry["valueFrom"]["secretKeyRef"]["key"]]
        return out

    def secret_refs(self) -> List[Dict[str, Any]]:
        return [e["valueFrom"]["secretKeyRef"] for e in self.spec.get("env", []) if "valueFrom" in e]

    def port(self, name: str = "http") -> int:
        (port,) = [p["containerPort"] for p in self.spec.get("ports", []) if p["name"] == name]
        return int(port)

    def arg(self, flag: str) -> str:
        argv = self.argv
        return argv[argv.index(flag) + 1]


def containers(include_init: bool = True) -> Iterator[Container]:
    for doc in workloads():
        spec = pod_spec(doc)
        for c in spec.get("containers", []):
            yield Container(doc["metadata"]["name"], c)
        if include_init:
            for c in spec.get("initContainers", []):
                yield Container(doc["metadata"]["name"], c, init=True)


def container(workload: str) -> Container:
    (found,) = [c for c in containers(include_init=False) if c.workload == workload]
    return found


def readme_channel_paths() -> Dict[str, str]:
    """channel → URL path of README.md's channel table (the `http://localhost:5005/...` column)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| channel | URL (local) |", 1)[1].split("\n\n", 1)[0]
    paths: Dict[str, str] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.search(r"`http://localhost:(\d+)(/[^`?…]*)", cells[1]) if len(cells) > 1 else None
        if match:
            paths[cells[0]] = match.group(2)
            assert match.group(1) == "5005", line
    return paths
