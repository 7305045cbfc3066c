"""Background jobs for the console: train (+ evaluate), evaluate, promote, rollback.

Each job runs the CLI step itself (`python -m ops <step> --project <root>`) in a child process, so the
console and the CLI run the same code and the same checks; its output goes to var/ops/jobs/<id>.log,
which the page polls for live progress. One job at a time per project.

Who a step runs as is never a typed name: a step that needs a login (train, promote, rollback) gets a
one-time token, issued to the console account that started the job just before the step starts and
handed over in ``OPS_TOKEN`` (:func:`ops.access.tokens.issue_job`); the child proves itself with it,
so the CLI checks the account's role and four-eyes again.  An unused token is revoked when its step ends.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ops.access import tokens
from ops.project import CODE_ROOT, OpsError, Project
from ops.statedb import connect

KINDS = {"train": "训练并评估", "evaluate": "评估", "promote": "上线", "rollback": "回滚"}
STATES = {"running": "进行中", "done": "成功", "failed": "失败"}
TIMEOUT_S = 3 * 3600
_RUNNING: Dict[str, threading.Thread] = {}
_CHILDREN: Dict[int, subprocess.Popen] = {}
_GUARD = threading.Lock()


@dataclass
class Job:
    id: int
    kind: str
    args: str
    by: str
    state: str
    started_at: float
    ended_at: Optional[float]
    exit_code: Optional[int]
    log: str

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    def output(self, project: Project, tail: int = 60) -> str:
        path = project.root / self.log
        if not path.exists():
            return ""
        lines = path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()
        return "\n".join(line for line in lines[-tail:] if line.strip())


def _steps(project: Project, kind: str, candidate: Optional[str]) -> List[Tuple[List[str], bool]]:
    """The job's commands, each with whether it needs the account's login (a one-time token)."""
    base = [sys.executable, "-m", "ops"]
    root = ["--project", str(project.root)]
    extra = ["--candidate", candidate] if candidate else []
    if kind == "train":
        return [(base + ["train"] + root, True), (base + ["evaluate"] + root, False)]
    if kind == "evaluate":
        return [(base + ["evaluate"] + root + extra, False)]
    if kind == "promote":
        return [(base + ["promote"] + root + extra, True)]
    if kind == "rollback":
        return [(base + ["rollback"] + root, True)]
    raise OpsError(f"未知的任务类型 {kind}。")


def get(project: Project, job_id: int) -> Optional[Job]:
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        conn.close()
    return Job(**dict(row)) if row else None


def recent(project: Project, limit: int = 20) -> List[Job]:
    conn = connect(project)
    try:
        return [Job(**dict(r)) for r in conn.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))]
    finally:
        conn.close()


def running(project: Project) -> Optional[Job]:
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM jobs WHERE state = 'running' ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    job = Job(**dict(row)) if row else None
    if job and str(project.root) not in _RUNNING:  # left over from a console that stopped mid-job
        _finish(project, job.id, "failed", -1)
        return None
    return job


def _finish(project: Project, job_id: int, state: str, code: int) -> None:
    conn = connect(project)
    try:
        conn.execute("UPDATE jobs SET state = ?, exit_code = ?, ended_at = ? WHERE id = ?",
                     (state, code, time.time(), job_id))
    finally:
        conn.close()


def start(project: Project, kind: str, by: str, candidate: Optional[str] = None,
          env: Optional[Dict[str, str]] = None, on_end: Optional[object] = None) -> Job:
    steps = _steps(project, kind, candidate)
    with _GUARD:
        busy = running(project)
        if busy:
            raise OpsError(f"已有任务在进行：{busy.label}（{busy.by} 启动，编号 {busy.id}），请等它结束后再试。")
        log_dir = project.root / "var" / "ops" / "jobs"
        log_dir.mkdir(parents=True, exist_ok=True)
        conn = connect(project)
        try:
            cur = conn.execute("INSERT INTO jobs (kind, args, by, state, started_at) VALUES (?, ?, ?, 'running', ?)",
                               (kind, candidate or "", by, time.time()))
            job_id = int(cur.lastrowid or 0)
            log = project.rel(log_dir / f"{job_id}.log")
            conn.execute("UPDATE jobs SET log = ? WHERE id = ?", (log, job_id))
        finally:
            conn.close()
        child_env = {**os.environ, **(env or {}), "PYTHONPATH": str(CODE_ROOT), "PYTHONUNBUFFERED": "1",
                     "PYTHONIOENCODING": "utf-8"}
        child_env.pop("OPS_TOKEN", None)  # never the console process's own token: each step gets its own
        thread = threading.Thread(target=_run, args=(project, job_id, by, steps, child_env, on_end), daemon=True)
        _RUNNING[str(project.root)] = thread
        thread.start()
    return get(project, job_id)  # type: ignore[return-value]


def _run(project: Project, job_id: int, by: str, steps: List[Tuple[List[str], bool]], env: Dict[str, str],
         on_end: object) -> None:
    code = -1
    path = project.root / "var" / "ops" / "jobs" / f"{job_id}.log"
    try:
        with open(path, "ab") as log:
            for cmd, needs_login in steps:
                log.write(("$ python -m ops " + " ".join(cmd[3:4]) + "\n").encode())
                log.flush()
                step_env, token_id = dict(env), 0
                if needs_login:
                    step_env["OPS_TOKEN"], token_id = tokens.issue_job(project, by, job_id)
                try:
                    code = _step(job_id, cmd, step_env, log)
                finally:
                    if token_id:
                        tokens.revoke(project, token_id, by)  # used up already, unless the step never got to it
                if code != 0:
                    break
    finally:
        _finish(project, job_id, "done" if code == 0 else "failed", code)
        _RUNNING.pop(str(project.root), None)
        if callable(on_end):
            on_end(job_id, code)


def _step(job_id: int, cmd: List[str], env: Dict[str, str], log: object) -> int:
    # same process group as the console: stopping the console stops its job too
    proc = subprocess.Popen(cmd, cwd=CODE_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # type: ignore[arg-type]
    _CHILDREN[job_id] = proc
    try:
        return proc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
    finally:
        _CHILDREN.pop(job_id, None)


def wait(project: Project, job_id: int, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get(project, job_id)
        if job and job.state != "running":
            return job
        time.sleep(0.5)
    raise TimeoutError(f"job {job_id} still running after {timeout}s")


def log_path(project: Project, job: Job) -> Path:
    return project.root / job.log


def stop_all(timeout: float = 20) -> None:
    """Terminate running job processes (the console is shutting down); they are recorded as failed."""
    for proc in list(_CHILDREN.values()):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
