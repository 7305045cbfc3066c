"""Start the pieces of a Rasa deployment on loopback, from the project's venv and Debian
packages (postgresql, redis-server, nginx), for tests, benchmarks and the scale-out check.

Every process gets its own session (so it can be stopped with its children), a log file,
a bounded readiness wait and an explicit stop.  Nothing listens beyond 127.0.0.1.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
DEPLOY = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class Response:
    status: int
    headers: Dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def http(method: str, url: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
         timeout: float = 60, raw: Optional[bytes] = None) -> Response:
    """One HTTP request; never raises on an HTTP error status (only on a network error)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **dict(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            return Response(response.status, {k.lower(): v for k, v in response.headers.items()}, payload,
                            time.monotonic() - started)
    except urllib.error.HTTPError as error:
        payload = error.read()
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, payload,
                        time.monotonic() - started)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=timeout)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass

    def kill(self) -> None:
        self.stop(signal.SIGKILL, timeout=10)


def start(name: str, cmd: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path = ROOT) -> Proc:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log, "ab")
    popen = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env), stdout=handle, stderr=subprocess.STDOUT,
                             start_new_session=True)
    handle.close()
    return Proc(name, popen, log)


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: Optional[Proc] = None,
               interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what} exited early (code {proc.popen.returncode}):\n{proc.tail()}")
        try:
            if check():
                return
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(interval)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{proc.tail() if proc else ''}")


# --------------------------------------------------------------------------- project


def base_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REST_AUTH_TOKEN",)}
    env.update({"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2"})
    env.update(extra)
    return env


def seed(env: Mapping[str, str]) -> None:
    subprocess.run([PYTHON, "-m", "credit.seed", "--reset"], cwd=ROOT, env=dict(env), check=True,
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


def start_action_server(port: int, env: Mapping[str, str], log: Path, timeout: float = 180) -> Proc:
    proc = start("actions", [PYTHON, "-m", "server", "actions", "--actions", "actions", "--port", str(port)],
                 env, log)
    wait_until(lambda: http("GET", f"http://127.0.0.1:{port}/health", timeout=5).status == 200, timeout,
               "action server", proc)
    return proc


def start_rasa(model: Path, port: int, endpoints: Path, env: Mapping[str, str], log: Path, token: str,
               hardened: bool = True, credentials: Optional[Path] = ROOT / "credentials.yml",
               wait: bool = True, timeout: float = 300, cwd: Path = ROOT,
               extra_args: Sequence[str] = ()) -> Proc:
    launcher = [PYTHON, "-m", "server", "run"] if hardened else [str(VENV_BIN / "rasa"), "run"]
    cmd = [*launcher, "--model", str(model), "--enable-api", "--auth-token", token, "--port", str(port),
           "--interface", "127.0.0.1", "--endpoints", str(endpoints), *extra_args]
    if credentials is not None:
        cmd += ["--credentials", str(credentials)]
    proc = start(f"rasa-{port}", cmd, env, log, cwd=cwd)
    if wait:
        wait_rasa(f"http://127.0.0.1:{port}", token, proc, timeout)
    return proc


def wait_rasa(url: str, token: str, proc: Optional[Proc], timeout: float = 300) -> None:
    wait_until(lambda: bool(http("GET", f"{url}/status?token={token}", timeout=5).json().get("model_file")),
               timeout, "Rasa server", proc)


# ------------------------------------------------------------------- Debian packages


def postgres_bin() -> Optional[str]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_service_user(user: str) -> Tuple[List[str], Optional[pwd.struct_passwd]]:
    if os.geteuid() != 0:
        return [], None
    return ["runuser", "-u", user, "--"], pwd.getpwnam(user)


def _chown_tree(path: Path, pw: Optional[pwd.struct_passwd]) -> None:
    if pw is None:
        return
    for root, _dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster that can be stopped and started again on the same
    data directory and port (to simulate an outage)."""

    workdir: Optional[Path] = None  # default: a fresh directory under /tmp the server user can reach
    port: int = field(default_factory=free_port)
    proc: Optional[Proc] = None

    def __post_init__(self) -> None:
        self.bindir = postgres_bin()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL 未安装 (apt-get install postgresql)")
        self.prefix, self.pw = _as_service_user("postgres")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="pg-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data = self.workdir / "data"
        if not self.data.exists():
            _chown_tree(self.workdir, self.pw)
            subprocess.run([*self.prefix, f"{self.bindir}/initdb", "-D", str(self.data), "-U", "postgres",
                            "--auth=trust", "-E", "UTF8"], check=True, capture_output=True, timeout=120)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 60) -> "Postgres":
        log = self.workdir / "postgres.log"
        if self.pw is not None and not log.exists():
            log.touch()
            os.chown(log, self.pw.pw_uid, self.pw.pw_gid)
        self.proc = start("postgres", [*self.prefix, f"{self.bindir}/postgres", "-D", str(self.data),
                                       "-p", str(self.port), "-h", "127.0.0.1", "-k", str(self.workdir),
                                       "-c", "fsync=off", "-c", "max_connections=200"], os.environ, log)
        wait_until(lambda: subprocess.run([f"{self.bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                                          capture_output=True).returncode == 0, timeout, "PostgreSQL", self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(signal.SIGINT, timeout=30)  # fast shutdown: disconnects clients
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class Redis:
    workdir: Optional[Path] = None
    port: int = field(default_factory=free_port)
    proc: Optional[Proc] = None

    def start(self, timeout: float = 30) -> "Redis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server 未安装 (apt-get install redis-server)")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="redis-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = start("redis", [binary, str(DEPLOY / "redis.conf"), "--port", str(self.port),
                                    "--bind", "127.0.0.1", "--dir", str(self.workdir), "--daemonize", "no",
                                    "--logfile", ""], os.environ, self.workdir / "redis.log")
        wait_until(lambda: port_open(self.port), timeout, "redis-server", self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def busy_text() -> str:
    """The polite "busy" reply (same words as server.guard.BUSY, hotline from the catalogue)."""
    from credit.catalogue import load_catalogue

    hotline = load_catalogue().hotline.number
    return f"非常抱歉，系统繁忙，您刚才的消息没有处理成功。请稍后再发一次；如有急事，请拨打客服热线 {hotline}。"


def render_nginx_conf(upstreams: Sequence[str], listen: str, prefix: str,
                      server_options: str = "max_fails=2 fail_timeout=10s", workers: str = "auto") -> str:
    """``deploy/nginx.conf`` for these upstream ``host:port`` servers."""
    template = (DEPLOY / "nginx.conf").read_text().replace("worker_processes auto;", f"worker_processes {workers};")
    servers = "\n        ".join(f"server {u} {server_options};".replace(" ;", ";") for u in upstreams)
    return (template.replace("# @UPSTREAMS@", servers)
            .replace("listen 80;", f"listen {listen};")
            .replace("@PREFIX@", prefix)
            .replace("@BUSY_TEXT@", busy_text()))


@dataclass
class Nginx:
    """nginx in front of ``upstreams`` (round robin), from ``deploy/nginx.conf``."""

    upstreams: List[int]
    workdir: Optional[Path] = None
    port: int = field(default_factory=free_port)
    proc: Optional[Proc] = None

    def start(self, timeout: float = 30) -> "Nginx":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise RuntimeError("nginx 未安装 (apt-get install nginx)")
        prefix, pw = _as_service_user("nobody")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="nginx-"))
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        # one worker, max_fails=0: strict round robin, so the test can check that turns alternate
        conf.write_text(render_nginx_conf([f"127.0.0.1:{p}" for p in self.upstreams], f"127.0.0.1:{self.port}",
                                          str(self.workdir), server_options="max_fails=0", workers="1"))
        _chown_tree(self.workdir, pw)
        self.proc = start("nginx", [*prefix, binary, "-p", str(self.workdir), "-c", str(conf),
                                    "-e", str(self.workdir / "logs" / "error.log"), "-g", "daemon off;"],
                          os.environ, self.workdir / "nginx.out")
        wait_until(lambda: port_open(self.port), timeout, "nginx", self.proc)
        return self

    @property
    def access_log(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "logs" / "access.log"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(signal.SIGQUIT)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m deploy.procs")
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("nginx-conf", help="print deploy/nginx.conf rendered for these upstreams")
    conf.add_argument("--upstream", action="append", required=True, help="host:port of a Rasa server")
    conf.add_argument("--listen", default="80")
    conf.add_argument("--prefix", default="/var/lib/rasa-nginx")
    args = parser.parse_args(argv)
    print(render_nginx_conf(args.upstream, args.listen, args.prefix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
