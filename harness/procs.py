"""Processes for tests and benchmarks: free ports, bounded waits, start and stop with a log.

Every process gets its own session (so it is stopped together with its children), a log
file whose tail goes into every error, and an explicit stop that ends in SIGKILL.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Mapping, Optional, Sequence

from harness.paths import ROOT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


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
        """``sig`` to the whole process group, then SIGKILL after ``timeout`` seconds."""
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
    """Start ``cmd`` in its own session, stdout and stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log, "ab")
    popen = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env), stdout=handle, stderr=subprocess.STDOUT,
                             start_new_session=True)
    handle.close()
    return Proc(name, popen, log)


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: Optional[Proc] = None,
               interval: float = 0.5) -> None:
    """Poll ``check`` until it is true; network errors and unparsable answers count as "not yet".

    Fails early (with the log tail) when ``proc`` exits, and after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what} exited early (code {proc.popen.returncode}):\n{proc.tail()}")
        try:
            if check():
                return
        except (OSError, ValueError):  # urllib's URLError and harness.http.HttpError are OSErrors
            pass
        time.sleep(interval)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{proc.tail() if proc else ''}")


def rss_mb(pid: int) -> Dict[str, float]:
    """Resident set size now and at its peak, in MB, from /proc (empty once the process is gone)."""
    values: Dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values["rss_mb" if key == "VmRSS" else "peak_mb"] = round(int(rest.split()[0]) / 1024, 1)
    except OSError:
        pass
    return values
