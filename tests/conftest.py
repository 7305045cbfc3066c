"""Shared fixtures. Servers are started here, on loopback, with bounded waits, and always stopped.

`stack` is one running assistant for the whole session: action server + Rasa server
(REST and every channel enabled with test secrets) over a fresh SQLite loan database
seeded with the demo records and a fresh SQLite tracker store. `start_stack(env)` starts
one more Rasa server on the same model, action server and databases with extra env.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

VENV_BIN = ROOT / ".venv" / "bin"
RASA_TOKEN = "test-rasa-token"
START_TIMEOUT_S = 240

TEST_ENV = {
    "RASA_AUTH_TOKEN": RASA_TOKEN,
    "WECHAT_TOKEN": "test-wechat-token",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "test-wechat-secret",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "TWILIO_AUTH_TOKEN": "test-twilio-token",
    "TWILIO_AGENT_NUMBER": "+8640082088200",
    "IVR_SHARED_SECRET": "test-ivr-secret",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
              timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode() or "null")


def _wait_until(check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early (code {proc.returncode}):\n{_tail(log)}")
        try:
            if check():
                return
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _start(cmd: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    handle = open(log, "wb")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Stack:
    rasa_url: str
    action_url: str
    env: Dict[str, str]
    workdir: Path
    wechat_api: Any = None
    processes: List[subprocess.Popen] = field(default_factory=list)

    def rest(self, sender: str, text: str, timeout: float = 60) -> List[Dict[str, Any]]:
        """One customer turn through the REST channel; returns the bot messages."""
        return http_json("POST", f"{self.rasa_url}/webhooks/rest/webhook",
                         {"sender": sender, "message": text}, timeout=timeout)

    @staticmethod
    def rest_id(sender: str) -> str:
        """The conversation id the REST channel gives a sender."""
        return f"rest:{sender}"

    def texts(self, sender: str, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.rest(sender, text))

    def tracker(self, sender_id: str) -> Dict[str, Any]:
        sid = urllib.request.quote(sender_id, safe=":")  # Sanic 21 does not unquote path params
        return http_json("GET", f"{self.rasa_url}/conversations/{sid}/tracker?token={RASA_TOKEN}")

    def user_turns(self, sender_id: str) -> List[Dict[str, Any]]:
        return [e for e in self.tracker(sender_id)["events"] if e.get("event") == "user"]

    def db_url(self) -> str:
        return self.env["DATABASE_URL"]


def _rasa_server(model: Path, workdir: Path, env: Dict[str, str], name: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    log = workdir / f"{name}.log"
    proc = _start([str(VENV_BIN / "python"), "-m", "server", "run", "--model", str(model), "--enable-api",
                   "--auth-token", RASA_TOKEN, "--port", str(port), "--interface", "127.0.0.1",
                   "--endpoints", str(workdir / "endpoints.yml"), "--credentials", "credentials.yml"],
                  env, log)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        status = http_json("GET", f"{url}/status?token={RASA_TOKEN}", timeout=5)
        return bool(status.get("model_file"))

    _wait_until(ready, START_TIMEOUT_S, f"Rasa server ({name})", proc, log)
    return url, proc


@pytest.fixture(scope="session")
def model_path() -> Path:
    explicit = os.environ.get("CREDIT_MODEL")
    if explicit:
        return Path(explicit)
    from model import dev_model

    return dev_model()


@pytest.fixture(scope="session")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    from tests.standins.wechat_api import WeChatApiStandIn

    wechat_api = WeChatApiStandIn()
    wechat_base = wechat_api.start()
    action_port = free_port()
    env = {**os.environ, **TEST_ENV,
           "DATABASE_URL": f"sqlite:///{workdir / 'credit.db'}",
           "WECHAT_API_BASE": wechat_base,
           "CHANNEL_STATE_DB": str(workdir / "channel_state.db"),
           "PYTHONPATH": str(ROOT)}
    (workdir / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n')
    subprocess.run([str(VENV_BIN / "python"), "-m", "credit.seed", "--reset"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    processes: List[subprocess.Popen] = []
    try:
        action_log = workdir / "actions.log"
        actions = _start([str(VENV_BIN / "python"), "-m", "server", "actions", "--actions", "actions",
                          "--port", str(action_port)], env, action_log)
        processes.append(actions)
        action_url = f"http://127.0.0.1:{action_port}"
        _wait_until(lambda: http_json("GET", f"{action_url}/health", timeout=5).get("status") == "ok",
                    START_TIMEOUT_S, "action server", actions, action_log)
        rasa_url, rasa = _rasa_server(model_path, workdir, env, "rasa")
        processes.append(rasa)
        yield Stack(rasa_url, action_url, env, workdir, wechat_api, processes)
    finally:
        for proc in reversed(processes):
            _stop(proc)
        wechat_api.stop()


@pytest.fixture(scope="session")
def start_stack(stack: Stack, model_path: Path) -> Iterator[Callable[[Dict[str, str]], Stack]]:
    extra: List[subprocess.Popen] = []

    def start(env_overrides: Dict[str, str]) -> Stack:
        env = {**stack.env, **env_overrides}
        url, proc = _rasa_server(model_path, stack.workdir, env, f"rasa-extra-{len(extra)}")
        extra.append(proc)
        return Stack(url, stack.action_url, env, stack.workdir, stack.wechat_api, [proc])

    yield start
    for proc in extra:
        _stop(proc)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: DATABASE_URL_PG if set, else a throw-away cluster from Debian's package."""
    if os.environ.get("DATABASE_URL_PG"):
        yield os.environ["DATABASE_URL_PG"]
        return
    from tests.servers import postgres_bin, postgres_server

    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/system_deps.sh installs it)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def sender() -> str:
    """A fresh conversation id on the REST channel."""
    return f"t-{uuid.uuid4().hex[:12]}"
