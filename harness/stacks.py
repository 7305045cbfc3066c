"""The whole assistant on loopback: a seeded SQLite loan database, the action server and one
or more Rasa servers (hardened launcher) over one SQLite tracker store.

The test suite's session ``stack`` and the benchmarks use the same object::

    stack = AssistantStack(model, env={"WECHAT_TOKEN": "..."}).start()
    stack.assistant.texts("sender-1", "利息多少")
    other = stack.add_server({"WECHAT_PASSIVE_DEADLINE_S": "0"})   # same model, databases, action server
    stack.stop()
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

from harness.http import http_json
from harness.paths import CREDENTIALS, ROOT
from harness.procs import Proc, free_port, rss_mb
from harness.rasa import base_env, seed, sqlite_tracker, start_action_server, start_rasa, tracker_path, write_endpoints

TOKEN = "bench-rasa-token"


@dataclass
class Assistant:
    """One running Rasa server of the assistant, and the ways the tests talk to it."""

    rasa_url: str
    action_url: str
    env: Dict[str, str]
    workdir: Path
    token: str
    wechat_api: Any = None  # harness.wechat_api.WeChatApiStandIn the channel posts to, if any
    wecom_api: Any = None  # harness.wecom_api.WeComKfStandIn the 微信客服 channel calls, if any

    @property
    def url(self) -> str:
        return self.rasa_url

    def rest(self, sender: str, text: str, timeout: float = 60) -> List[Dict[str, Any]]:
        """One customer turn through the REST channel; returns the bot messages."""
        return http_json("POST", f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text},
                         timeout=timeout)

    @staticmethod
    def rest_id(sender: str) -> str:
        """The conversation id the REST channel gives a sender."""
        return f"rest:{sender}"

    def texts(self, sender: str, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.rest(sender, text))

    def tracker(self, sender_id: str) -> Dict[str, Any]:
        return http_json("GET", f"{self.rasa_url}{tracker_path(sender_id)}?token={self.token}")

    def user_turns(self, sender_id: str) -> List[Dict[str, Any]]:
        return [e for e in self.tracker(sender_id)["events"] if e.get("event") == "user"]

    def db_url(self) -> str:
        return self.env["DATABASE_URL"]


class AssistantStack:
    """Action server + Rasa servers of the assistant, SQLite loan DB and tracker store in ``workdir``.

    ``workdir`` defaults to a fresh temporary directory, removed by ``stop``; a given one is kept."""

    def __init__(self, model: Path, env: Optional[Mapping[str, str]] = None, token: str = TOKEN,
                 workdir: Optional[Path] = None, hardened: bool = True, wechat_api: Any = None,
                 wecom_api: Any = None, start_timeout: float = 300, root: Path = ROOT,
                 action_proxy: Optional[Callable[[str], str]] = None) -> None:
        self.model = model
        # tests only: given the action server's webhook URL, the URL the Rasa servers call instead (a
        # stand-in in between that forwards, e.g. tests/resilience/guard_injector.py)
        self.action_proxy = action_proxy
        self.root = root  # the source tree the processes run (another checkout for a frozen reference)
        self.token = token
        self.hardened = hardened
        self.wechat_api = wechat_api
        self.wecom_api = wecom_api
        self.start_timeout = start_timeout
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="bench-assistant-"))
        self.action_port = free_port()
        self.action_url = f"http://127.0.0.1:{self.action_port}"
        self.tracker_url = f"sqlite:///{self.workdir / 'tracker.db'}"
        self.env = base_env(DATABASE_URL=f"sqlite:///{self.workdir / 'credit.db'}", **dict(env or {}))
        self.actions: Optional[Proc] = None
        self.servers: List[Proc] = []
        self.assistant: Optional[Assistant] = None

    @property
    def rasa(self) -> Optional[Proc]:
        return self.servers[0] if self.servers else None

    @property
    def url(self) -> str:
        assert self.assistant is not None, "start() first"
        return self.assistant.rasa_url

    def start(self) -> "AssistantStack":
        seed(self.env, cwd=self.root)
        webhook = f"{self.action_url}/webhook"
        self.endpoints = write_endpoints(self.workdir / "endpoints.yml",
                                         self.action_proxy(webhook) if self.action_proxy else webhook,
                                         sqlite_tracker(self.workdir / "tracker.db"))
        self.actions = start_action_server(self.action_port, self.env, self.workdir / "actions.log",
                                           timeout=self.start_timeout, cwd=self.root)
        self.assistant = self.add_server({}, "rasa")
        return self

    def add_server(self, env_overrides: Mapping[str, str], name: str = "") -> Assistant:
        """One more Rasa server on the same model, action server and databases, with extra env."""
        env = {**self.env, **env_overrides}
        port = free_port()
        name = name or f"rasa-extra-{len(self.servers) - 1}"
        self.servers.append(start_rasa(self.model, port, self.endpoints, env, self.workdir / f"{name}.log",
                                       self.token, hardened=self.hardened,
                                       credentials=self.root / CREDENTIALS.relative_to(ROOT),
                                       timeout=self.start_timeout, cwd=self.root))
        return Assistant(f"http://127.0.0.1:{port}", self.action_url, env, self.workdir, self.token,
                         self.wechat_api, self.wecom_api)

    def kill_server(self, assistant: Assistant) -> None:
        """SIGKILL the Rasa server of ``assistant`` (a crash: nothing is flushed or said goodbye to)."""
        port = int(assistant.rasa_url.rsplit(":", 1)[1])
        for proc in self.servers:
            if proc.name == f"rasa-{port}":
                proc.kill()

    def rss_mb(self) -> Dict[str, Dict[str, float]]:
        out = {}
        if self.rasa:
            out["rasa_server"] = rss_mb(self.rasa.pid)
        if self.actions:
            out["action_server"] = rss_mb(self.actions.pid)
        return out

    def stop(self) -> None:
        for proc in [*reversed(self.servers), self.actions]:
            if proc is not None:
                proc.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
