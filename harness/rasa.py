"""The assistant's own processes: seeded loan database, action server and Rasa server.

The Rasa server runs through the hardened launcher (``python -m server run``) by default,
or as plain ``rasa run`` (the reference bot of the latency benchmark).
"""
from __future__ import annotations

import os
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

from harness.http import http
from harness.paths import CREDENTIALS, PYTHON, RASA, ROOT
from harness.procs import Proc, start, wait_until


def base_env(**extra: str) -> Dict[str, str]:
    """This environment for a child process, minus a REST token the caller did not ask for."""
    env = {k: v for k, v in os.environ.items() if k not in ("REST_AUTH_TOKEN",)}
    env.update({"RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
    env.update(extra)
    return env


def seed(env: Mapping[str, str], cwd: Path = ROOT) -> None:
    """Fresh demo records in the loan database that ``env["DATABASE_URL"]`` names (the code of ``cwd``)."""
    subprocess.run([PYTHON, "-m", "credit.seed", "--reset"], cwd=cwd, env=dict(env), check=True,
                   capture_output=True, timeout=120)


def write_endpoints(path: Path, action_url: Optional[str], tracker_store: Mapping[str, Any],
                    lock_store: Optional[Mapping[str, Any]] = None) -> Path:
    import yaml

    doc: Dict[str, Any] = {"tracker_store": dict(tracker_store)}
    if action_url:
        doc["action_endpoint"] = {"url": action_url}
    if lock_store:
        doc["lock_store"] = dict(lock_store)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return path


def sqlite_tracker(db: Path) -> Dict[str, Any]:
    return {"type": "SQL", "dialect": "sqlite", "db": str(db)}


def start_action_server(port: int, env: Mapping[str, str], log: Path, timeout: float = 240,
                        cwd: Path = ROOT) -> Proc:
    proc = start("actions", [PYTHON, "-m", "server", "actions", "--actions", "actions", "--port", str(port)],
                 env, log, cwd=cwd)
    wait_until(lambda: http("GET", f"http://127.0.0.1:{port}/health", timeout=5).status == 200, timeout,
               "action server", proc)
    return proc


def start_rasa(model: Path, port: int, endpoints: Path, env: Mapping[str, str], log: Path, token: str,
               hardened: bool = True, credentials: Optional[Path] = CREDENTIALS,
               wait: bool = True, timeout: float = 300, cwd: Path = ROOT,
               extra_args: Sequence[str] = ()) -> Proc:
    launcher = [PYTHON, "-m", "server", "run"] if hardened else [RASA, "run"]
    cmd = [*launcher, "--model", str(model), "--enable-api", "--auth-token", token, "--port", str(port),
           "--interface", "127.0.0.1", "--endpoints", str(endpoints), *extra_args]
    if credentials is not None:
        cmd += ["--credentials", str(credentials)]
    proc = start(f"rasa-{port}", cmd, env, log, cwd=cwd)
    if wait:
        wait_rasa(f"http://127.0.0.1:{port}", token, proc, timeout)
    return proc


def wait_rasa(url: str, token: str, proc: Optional[Proc], timeout: float = 300) -> None:
    """Until the server at ``url`` has loaded a model (``/status`` names a model file)."""
    wait_until(lambda: bool(http("GET", f"{url}/status?token={token}", timeout=5).json().get("model_file")),
               timeout, "Rasa server", proc)


def conversation_id(sender: str) -> str:
    """The conversation id the REST channel of ``credentials.yml`` gives a sender."""
    return f"rest:{sender}" if "NamespacedRestInput" in CREDENTIALS.read_text() else sender


def tracker_path(sender_id: str) -> str:
    """``/conversations/<id>/tracker`` with ``:`` left as it is: Sanic 21 does not unquote
    path parameters, so ``wx%3A...`` would name another conversation."""
    return f"/conversations/{urllib.parse.quote(sender_id, safe=':@+=')}/tracker"
