"""deploy/k8s/ says what the code reads: env names, ports, commands, probes, routes — checked against the code.

The sources of truth are the code itself (every environment variable name is a string the project's packages, or
the library that reads it, contain; server/settings.py parses the values), the README's channel table (public
URLs, the Rasa port), the Dockerfile (user, WORKDIR, what the build context admits) and docs/benchmarks.md
(measured memory). Nothing here imports credit/ or ops/ internals: entry points are run or looked up by name.
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import logging
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Set, Tuple
from urllib.parse import urlparse

import pytest
import yaml

from server.settings import settings
from tests.deploy import k8s

ROOT = k8s.ROOT
PACKAGES = ("actions", "connectors", "credit", "nlu_components", "ops", "outreach", "server")
SITE = Path(subprocess.check_output([str(ROOT / ".venv" / "bin" / "python"), "-c",
                                     "import rasa, os; print(os.path.dirname(os.path.dirname(rasa.__file__)))"],
                                    text=True).strip())
# variables the manifests set that a library reads, not our code: (name, library file that reads it)
LIBRARY_READS = {"SANIC_WORKERS": "rasa/constants.py"}
# `python -m <module> <verb>` entry points the workloads may run (README, docs/deployment.md)
ENTRY_POINTS = {("server", "run"), ("server", "actions"), ("ops", "serve"), ("outreach", "run"),
                ("credit.migrate", None), ("credit.seed", None), ("server.purge", None),
                ("ops.privacy.retention", None)}


@functools.lru_cache(maxsize=1)
def strings_in_code() -> Tuple[Set[str], List[re.Pattern]]:
    """Every string constant of the project's packages, and every f-string as a pattern
    (``f"RETENTION_{kind.upper()}_DAYS"`` → ``RETENTION_.+_DAYS``)."""
    names: Set[str] = set()
    patterns: List[re.Pattern] = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names.add(node.value)
                elif isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.Constant) for v in node.values):
                    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
                    patterns.append(re.compile("".join(parts)))
    return names, patterns


def endpoint_variables(path: Path) -> Set[str]:
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
    return set(re.findall(r"\$\{(\w+)\}", text))


def test_every_variable_the_manifests_set_is_read_by_the_code() -> None:
    known, patterns = strings_in_code()
    rasa = k8s.container("credit-rasa")
    endpoints = endpoint_variables(ROOT / rasa.arg("--endpoints"))
    in_arguments = {ref for c in k8s.containers() for ref in re.findall(r"\$\((\w+)\)", " ".join(c.argv))}
    unread = []
    for name in {n for c in k8s.containers() for n in c.env_names()}:
        if name in known or name in endpoints or name in in_arguments:  # $(NAME): Kubernetes expands it
            continue
        if any(p.fullmatch(name) for p in patterns):
            continue
        if name in LIBRARY_READS and name in (SITE / LIBRARY_READS[name]).read_text(encoding="utf-8"):
            continue
        unread.append(name)
    assert not unread, f"set in deploy/k8s but read by nothing: {sorted(unread)}"


def test_the_reading_check_would_catch_a_misspelt_variable() -> None:
    known, patterns = strings_in_code()
    assert "DATABASE_URL" in known and any(p.fullmatch("RETENTION_TICKETS_DAYS") for p in patterns)
    for typo in ("DATABSE_URL", "RETENTION_TICKET_DAY", "ACTION_TIMEOUT"):
        assert typo not in known and not any(p.fullmatch(typo) for p in patterns), typo


def test_arguments_only_name_variables_the_container_has() -> None:
    for c in k8s.containers():
        for ref in re.findall(r"\$\((\w+)\)", " ".join(c.argv)):
            assert ref in c.env_names(), f"{c.workload}: $({ref}) in its arguments is not in its environment"


def test_every_endpoints_variable_of_rasa_is_set_so_start_up_cannot_stop() -> None:
    # an unset ${VAR} in endpoints.yml stops Rasa at start-up; an optional secret may be absent
    rasa = k8s.container("credit-rasa")
    required = {e["name"] for e in rasa.spec["env"]
                if "value" in e or not e["valueFrom"]["secretKeyRef"].get("optional")}
    required |= set(k8s.config_map())
    missing = endpoint_variables(ROOT / rasa.arg("--endpoints")) - required
    assert not missing, f"deploy/endpoints.scaleout.yml needs {sorted(missing)}, which credit-rasa may not have"


def test_the_config_map_parses_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cm = k8s.config_map()
    with caplog.at_level(logging.WARNING, logger="server.settings"):
        parsed = settings(cm)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert parsed.action_timeout_s == float(cm["ACTION_TIMEOUT_S"])
    assert parsed.session_max_turns == int(cm["SESSION_MAX_TURNS"])
    assert parsed.retention.conversations_days == int(cm["RETENTION_CONVERSATIONS_DAYS"])
    assert parsed.retention.tickets_days == int(cm["RETENTION_TICKETS_DAYS"])
    assert parsed.retention.exports_days == int(cm["RETENTION_EXPORTS_DAYS"])
    # the action server must be reachable from the Rasa pods: inside its pod it binds every interface
    assert settings(k8s.container("credit-actions").env()).action_host == "0.0.0.0"
    assert settings(k8s.container("credit-rasa").env()).action_host == "127.0.0.1"  # not set where not needed


def test_secrets_are_references_to_one_secret_and_never_config() -> None:
    assert not k8s.of_kind("Secret"), "no Secret with values is shipped: they are created in the cluster"
    secretish = re.compile(r"(TOKEN|SECRET|PASSWORD|_KEY|_URL)$")
    leaked = [k for k in k8s.config_map() if secretish.search(k) and k != "PUBLIC_BASE_URL"]
    assert not leaked, f"looks like a secret in the ConfigMap: {leaked}"
    keys = set()
    for c in k8s.containers():
        for ref in c.secret_refs():
            assert ref["name"] == "credit-secrets", (c.workload, ref)
            keys.add(ref["key"])
    documented = set(re.findall(r"--from-literal=(\w+)=", (ROOT / "docs" / "deployment.md").read_text("utf-8")))
    assert keys == documented, f"docs/deployment.md's secret list vs the manifests: {keys ^ documented}"


def test_commands_are_the_entry_points_and_exist() -> None:
    for c in k8s.containers(include_init=False):
        argv = c.argv
        assert argv[:2] == ["python", "-m"], f"{c.workload}: {argv}"
        module, verb = argv[2], (argv[3] if len(argv) > 3 and not argv[3].startswith("-") else None)
        assert (module, verb) in ENTRY_POINTS or (module, None) in ENTRY_POINTS, f"{c.workload}: {argv}"
        spec = importlib.util.find_spec(module)
        assert spec is not None and (spec.submodule_search_locations is None
                                     or importlib.util.find_spec(f"{module}.__main__")), module


def test_rasa_serves_the_stable_model_path_with_files_the_image_has() -> None:
    rasa = k8s.container("credit-rasa")
    assert rasa.arg("--model") == f"{k8s.WORKDIR}/models/production/model.tar.gz"
    admitted = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for flag in ("--endpoints", "--credentials"):
        path = rasa.arg(flag)
        assert (ROOT / path).is_file(), path
        assert f"!{path}" in admitted, f"{path} is not in the image (.dockerignore)"
    assert "--auth-token" not in rasa.argv, "tokens come from the environment, never the command line"
    assert "--enable-api" in rasa.argv
    mounts = {m["mountPath"]: m for m in rasa.spec["volumeMounts"]}
    assert mounts[f"{k8s.WORKDIR}/models"]["readOnly"] is True


def test_ports_agree_from_the_readme_to_the_services() -> None:
    rasa, actions, console = (k8s.container(n) for n in ("credit-rasa", "credit-actions", "credit-ops-console"))
    assert rasa.port() == int(rasa.arg("--port")) == 5005  # README's channel table: http://localhost:5005/...
    assert actions.port() == int(actions.arg("--port"))
    assert console.port() == int(console.arg("--port"))
    for name, c in (("credit-rasa", rasa), ("credit-actions", actions), ("credit-ops-console", console)):
        service = k8s.named("Service", name)
        (port,) = service["spec"]["ports"]
        assert port["port"] == c.port() and port["targetPort"] == "http", name
        deployment = k8s.named("Deployment", name)
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"], name
    action_url = urlparse(rasa.env()["ACTION_SERVER_URL"])
    assert (action_url.hostname, action_url.port, action_url.path) == ("credit-actions", actions.port(), "/webhook")
    rasa_url = urlparse(k8s.container("credit-outreach").env()["RASA_URL"])
    assert (rasa_url.hostname, rasa_url.port) == ("credit-rasa", rasa.port())


def test_probes_are_the_paths_the_image_healthcheck_asks() -> None:
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy" / "docker" / "healthcheck.py")
    assert spec and spec.loader
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    for name, path in (("credit-rasa", "/"), ("credit-actions", "/health"), ("credit-ops-console", "/login")):
        c = k8s.container(name)
        assert healthcheck.target(c.argv) == (c.port(), path), name
        for probe in ("readinessProbe", "livenessProbe"):
            assert c.spec[probe]["httpGet"] == {"path": path, "port": "http"}, (name, probe)
    assert k8s.container("credit-rasa").spec["startupProbe"]["httpGet"]["path"] == "/"
    assert healthcheck.target(k8s.container("credit-outreach").argv) is None  # no port: healthy while it runs


def _routes() -> Dict[str, str]:
    routes: Dict[str, str] = {}
    for ingress in k8s.of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                assert p["pathType"] == "Prefix"
                routes[p["path"]] = p["backend"]["service"]["name"]
    return routes


def _routed(path: str, routes: Dict[str, str]) -> str | None:
    """The service the longest matching Prefix path sends `path` to (Kubernetes' element-wise prefix match)."""
    parts = [p for p in path.split("/") if p]
    best, service = -1, None
    for prefix, target in routes.items():
        pre = [p for p in prefix.split("/") if p]
        if parts[:len(pre)] == pre and len(pre) > best:
            best, service = len(pre), target
    return service


def test_the_public_ingress_routes_every_channel_of_the_readme_and_not_the_http_api() -> None:
    routes = {p: s for p, s in _routes().items() if s == "credit-rasa"}
    channels = k8s.readme_channel_paths()
    assert len(channels) >= 6, channels
    for channel, path in channels.items():
        assert _routed(path, routes) == "credit-rasa", f"{channel} ({path}) is not routed to Rasa"
    for api in ("/", "/model", "/status", "/version", "/conversations/x/tracker", "/webhooks"):
        assert _routed(api, routes) is None, f"Rasa's {api} must stay inside the cluster"


def test_network_policies_admit_only_the_intended_callers() -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in k8s.of_kind("NetworkPolicy")}
    deny = [s for s in policies.values() if s["podSelector"] == {} and "ingress" not in s]
    assert deny and deny[0]["policyTypes"] == ["Ingress"], "a default deny for every pod"

    def admitted(target: str) -> Set[tuple]:
        out: Set[tuple] = set()
        for spec in policies.values():
            if spec["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") != target:
                continue
            for rule in spec["ingress"]:
                ports = tuple(sorted(p["port"] for p in rule["ports"]))
                for peer in rule["from"]:
                    who = peer.get("podSelector", peer.get("namespaceSelector"))["matchLabels"]
                    out.add((tuple(sorted(who.items())), ports))
        return out

    ingress_ns = (("kubernetes.io/metadata.name", "ingress-nginx"),)
    rasa, actions, console = (k8s.container(n).port() for n in ("credit-rasa", "credit-actions",
                                                                  "credit-ops-console"))
    assert admitted("credit-actions") == {((("app.kubernetes.io/name", "credit-rasa"),), (actions,))}
    assert admitted("credit-rasa") == {(ingress_ns, (rasa,)),
                                       ((("app.kubernetes.io/name", "credit-outreach"),), (rasa,))}
    assert admitted("credit-ops-console") == {(ingress_ns, (console,))}
    for other in ("credit-outreach", "credit-migrate", "credit-purge"):
        assert not admitted(other), other


def test_every_pod_runs_as_the_image_user_on_a_read_only_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    uid = int(re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M).group(1))
    assert f"WORKDIR {k8s.WORKDIR}" in dockerfile
    for doc in k8s.workloads():
        pod = k8s.pod_spec(doc)
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
    for c in k8s.containers():
        sc = c.spec["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, c.workload
        assert sc["capabilities"]["drop"] == ["ALL"], c.workload
        if not c.init:  # what the code writes: /tmp (model unpacking, jieba's cache, HOME)
            assert "/tmp" in {m["mountPath"] for m in c.spec["volumeMounts"]}, c.workload
    for name in ("credit-rasa", "credit-actions", "credit-ops-console", "credit-outreach", "credit-purge"):
        mounts = {m["mountPath"] for m in k8s.container(name).spec["volumeMounts"]}
        assert f"{k8s.WORKDIR}/var" in mounts, f"{name}: var/ (channel state, SQLite defaults) must be writable"


def _mib(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity).groups()
    return float(number) * (1024 if unit == "Gi" else 1)


def test_sizes_come_from_the_measured_figures() -> None:
    bench = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")

    def rss(row: str) -> float:
        return float(re.search(rf"^\| {row} \| ([\d.]+) \|", bench, re.M).group(1))

    rasa, actions = k8s.container("credit-rasa"), k8s.container("credit-actions")
    measured_rasa = rss("assistant rasa server") * 1e6 / 2**20
    assert _mib(rasa.spec["resources"]["requests"]["memory"]) >= 1.1 * measured_rasa
    assert _mib(rasa.spec["resources"]["limits"]["memory"]) >= 1.5 * measured_rasa  # room for a model reload
    assert _mib(actions.spec["resources"]["requests"]["memory"]) >= 1.5 * rss("assistant action server") * 1e6 / 2**20
    for c in k8s.containers():
        resources = c.spec["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])


def test_replicas_budgets_and_autoscaling_fit_together() -> None:
    rasa = k8s.named("Deployment", "credit-rasa")
    assert rasa["spec"]["replicas"] == 3
    assert rasa["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    for name in ("credit-rasa", "credit-actions"):
        replicas = k8s.named("Deployment", name)["spec"]["replicas"]
        hpa = k8s.named("HorizontalPodAutoscaler", name)["spec"]
        assert hpa["scaleTargetRef"]["name"] == name and hpa["minReplicas"] == replicas < hpa["maxReplicas"]
        assert 0 < k8s.named("PodDisruptionBudget", name)["spec"]["minAvailable"] < replicas
    # the console keeps its state in one SQLite file and its jobs as local processes: one pod, never two at once
    console = k8s.named("Deployment", "credit-ops-console")["spec"]
    assert console["replicas"] == 1 and console["strategy"]["type"] == "Recreate"
    # several outreach workers are safe: notices are claimed in the database (the test below proves it)
    assert k8s.named("Deployment", "credit-outreach")["spec"]["replicas"] >= 2
    proof = ROOT / "tests" / "scale" / "test_outreach_postgres.py"
    assert "def test_two_engine_processes_on_postgresql_send_each_notice_once" in proof.read_text(encoding="utf-8")
    assert "tests/scale/test_outreach_postgres.py" in (k8s.K8S / "outreach.yaml").read_text(encoding="utf-8")


def test_every_document_is_in_the_namespace_and_labelled() -> None:
    for path in k8s.files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            meta = doc["metadata"]
            if doc["kind"] != "Namespace":
                assert meta.get("namespace") == "credit-assistant", (path.name, meta["name"])
            assert meta["labels"]["app.kubernetes.io/part-of"] == "credit-assistant", (path.name, meta["name"])
