"""The probe paths of deploy/k8s/ answer 200 on the real servers, started with the manifests' own commands,
arguments and ConfigMap (on loopback, with a free port and a SQLite loan database; the Tencent SMS gateway of
the ConfigMap is swapped for the outbox, since no vendor can be reached here). Rasa's `/` needs a trained model
and is left to tests/e2e, which start the same hardened server."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.http import http
from harness.paths import PYTHON
from harness.procs import free_port, start, wait_until
from tests.deploy import k8s


@pytest.mark.parametrize("workload", ["credit-actions", "credit-ops-console"])
def test_the_probe_path_answers_on_the_running_server(workload: str, tmp_path: Path) -> None:
    c = k8s.container(workload)
    port = free_port()
    argv = [PYTHON if a == "python" else a for a in c.argv]
    argv[argv.index("--port") + 1] = str(port)
    if "--host" in argv:
        argv[argv.index("--host") + 1] = "127.0.0.1"
    env = {**c.env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'credit.db'}", "SMS_GATEWAY": "outbox",
           "ACTION_HOST": "127.0.0.1", "OPS_CONSOLE_DB": str(tmp_path / "console.db"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin", "OPS_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}"}
    proc = start(workload, argv, env, tmp_path / "server.log")
    try:
        path = c.spec["readinessProbe"]["httpGet"]["path"]
        wait_until(lambda: http("GET", f"http://127.0.0.1:{port}{path}", timeout=5).status == 200, 120,
                   workload, proc)
        assert c.spec["livenessProbe"]["httpGet"]["path"] == path
    finally:
        proc.stop()
