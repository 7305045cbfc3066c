"""PostgreSQL and Redis from Debian's packages (postgresql, redis-server), throw-away, on loopback.

As root the servers run as their service users (initdb refuses to run as root).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from harness.paths import DEPLOY
from harness.procs import Proc, free_port, port_open, start, wait_until


def postgres_bin() -> Optional[str]:
    """The bin directory of the newest installed PostgreSQL, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def as_service_user(user: str) -> Tuple[List[str], Optional[pwd.struct_passwd]]:
    """Command prefix and account to run a server as ``user`` when we are root."""
    if os.geteuid() != 0:
        return [], None
    return ["runuser", "-u", user, "--"], pwd.getpwnam(user)


def chown_tree(path: Path, pw: Optional[pwd.struct_passwd]) -> None:
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
        self.prefix, self.pw = as_service_user("postgres")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="pg-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data = self.workdir / "data"
        if not self.data.exists():
            chown_tree(self.workdir, self.pw)
            subprocess.run([*self.prefix, f"{self.bindir}/initdb", "-D", str(self.data), "-U", "postgres",
                            "--auth=trust", "-E", "UTF8"], check=True, capture_output=True, timeout=120)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 60) -> "Postgres":
        assert self.workdir is not None
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

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; returns its URL."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(signal.SIGINT, timeout=30)  # fast shutdown: disconnects clients
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self.workdir is not None:
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
