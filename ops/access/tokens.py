"""Command-line tokens: who runs `python -m ops`, proven, short-lived and revocable.

Three kinds, all kept as the console keeps its sessions: a random token goes to the holder, only its
SHA-256 is stored (table ``cli_tokens`` of the console's database), so the database alone logs no one in.

* ``login`` — `python -m ops login` with an account's password, for one OS user on one host (the token is
  refused from another): ends after :data:`LOGIN_IDLE_S` without use or :data:`LOGIN_MAX_S` at most, or at
  `python -m ops logout`;
* ``automation`` — ``OPS_TOKEN`` for scripts, issued to a named account by an admin in the console
  (「用户管理」), valid 1–:data:`AUTOMATION_MAX_DAYS` days, revocable there; its issuer stays on record
  (four-eyes counts the issuer too, :mod:`ops.retrain.promote`);
* ``job`` — one use, :data:`JOB_TTL_S`, for one step of a console job, bound to the logged-in account
  (:mod:`ops.console.jobs`).

Every check reads the account's roles and state live: a disabled account's tokens stop at once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ops.project import OpsError, Project
from ops.statedb import connect

KINDS = {"login": "命令行登录", "automation": "自动化令牌（OPS_TOKEN）", "job": "控制台任务"}
LOGIN_MAX_S = 8 * 3600  # a working day
LOGIN_IDLE_S = 60 * 60
AUTOMATION_DEFAULT_DAYS = 30
AUTOMATION_MAX_DAYS = 90
JOB_TTL_S = 10 * 60
MAX_LENGTH = 100
_PREFIX = {"login": "opsl_", "automation": "opsa_", "job": "opsj_"}


@dataclass(frozen=True)
class Token:
    id: int
    username: str
    kind: str
    label: str
    os_user: str
    host: str
    created_by: str
    created_at: float
    expires_at: float
    last_used: Optional[float]

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def until(self) -> str:
        return dt.datetime.fromtimestamp(self.expires_at).strftime("%Y-%m-%d %H:%M")

    @property
    def created(self) -> str:
        return dt.datetime.fromtimestamp(self.created_at).strftime("%Y-%m-%d %H:%M")

    @property
    def used(self) -> str:
        return dt.datetime.fromtimestamp(self.last_used).strftime("%Y-%m-%d %H:%M") if self.last_used else "未使用"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(row: object) -> Token:
    d = dict(row)  # type: ignore[call-overload]
    return Token(d["id"], d["username"], d["kind"], d["label"], d["os_user"], d["host"], d["created_by"],
                 d["created_at"], d["expires_at"], d["last_used"])


def _issue(project: Project, username: str, kind: str, ttl_s: float, label: str = "", os_user: str = "",
           host: str = "", created_by: str = "", uses: Optional[int] = None) -> Tuple[str, int]:
    token = _PREFIX[kind] + secrets.token_urlsafe(32)
    now = time.time()
    conn = connect(project)
    try:
        conn.execute("DELETE FROM cli_tokens WHERE expires_at < ? OR revoked_at < ?", (now - 86400, now - 86400))
        cur = conn.execute(
            "INSERT INTO cli_tokens (token_hash, username, kind, label, os_user, host, created_by, created_at, "
            "expires_at, uses_left) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_hash(token), username, kind, label[:60], os_user[:64], host[:128], created_by or username, now,
             now + ttl_s, uses))
        return token, int(cur.lastrowid or 0)
    finally:
        conn.close()


def issue_login(project: Project, username: str, os_user: str, host: str) -> Tuple[str, float]:
    token, _ = _issue(project, username, "login", LOGIN_MAX_S, "python -m ops login", os_user, host)
    return token, time.time() + LOGIN_MAX_S


def issue_automation(project: Project, username: str, label: str, days: int, by: str) -> Tuple[str, int]:
    label = " ".join((label or "").split())
    if not label:
        raise OpsError("请写明这个令牌的用途（例如“每周自动训练”），便于日后核对和吊销。")
    if not 1 <= days <= AUTOMATION_MAX_DAYS:
        raise OpsError(f"有效期应为 1–{AUTOMATION_MAX_DAYS} 天。")
    return _issue(project, username, "automation", days * 86400, label, created_by=by)


def issue_job(project: Project, username: str, job_id: int) -> Tuple[str, int]:
    return _issue(project, username, "job", JOB_TTL_S, f"控制台任务 #{job_id}", uses=1)


def check(project: Project, token: str, os_user: str, host: str) -> Tuple[Optional[Token], str]:
    """(token, "") when ``token`` is live — refreshing its idle timer, using up a one-time one — else
    (None, the reason in Chinese)."""
    if not token or len(token) > MAX_LENGTH:
        return None, "令牌格式不对"
    now = time.time()
    conn = connect(project)
    try:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT * FROM cli_tokens WHERE token_hash = ?", (_hash(token),)).fetchone()
        reason = ""
        if row is None:
            reason = "令牌无效"
        elif row["revoked_at"] is not None:
            reason = "令牌已被吊销或已退出登录"
        elif row["expires_at"] < now:
            reason = "登录已过期" if row["kind"] == "login" else "令牌已过期"
        elif row["kind"] == "login" and (row["last_used"] or row["created_at"]) < now - LOGIN_IDLE_S:
            reason = f"登录已闲置超过 {LOGIN_IDLE_S // 60} 分钟，已自动退出"
        elif row["kind"] == "login" and (row["os_user"], row["host"]) != (os_user, host):
            reason = f"这个登录属于 {row['os_user']}@{row['host']}，不能在别的系统用户或机器上使用"
        elif row["uses_left"] is not None and row["uses_left"] < 1:
            reason = "一次性令牌已经用过"
        if reason:
            conn.execute("COMMIT")
            return None, reason
        conn.execute("UPDATE cli_tokens SET last_used = ?, uses_left = CASE WHEN uses_left IS NULL THEN NULL "
                     "ELSE uses_left - 1 END WHERE id = ?", (now, row["id"]))
        conn.execute("COMMIT")
        return _token(row), ""
    finally:
        conn.close()


def revoke(project: Project, token_id: int, by: str) -> Optional[Token]:
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM cli_tokens WHERE id = ? AND revoked_at IS NULL", (token_id,)).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE cli_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?", (time.time(), by, token_id))
        return _token(row)
    finally:
        conn.close()


def revoke_token(project: Project, token: str, by: str) -> Optional[Token]:
    """Revoke by the token itself (`python -m ops logout`)."""
    conn = connect(project)
    try:
        row = conn.execute("SELECT id FROM cli_tokens WHERE token_hash = ?", (_hash(token or ""),)).fetchone()
    finally:
        conn.close()
    return revoke(project, int(row["id"]), by) if row else None


def revoke_user(project: Project, username: str, by: str, kinds: Tuple[str, ...] = tuple(KINDS)) -> int:
    """Revoke an account's tokens (disabled: all; new password: its logins)."""
    marks = ",".join("?" * len(kinds))
    conn = connect(project)
    try:
        return int(conn.execute(f"UPDATE cli_tokens SET revoked_at = ?, revoked_by = ? WHERE username = ? "
                                f"AND revoked_at IS NULL AND kind IN ({marks})",
                                (time.time(), by, username, *kinds)).rowcount or 0)
    finally:
        conn.close()


def active(project: Project) -> List[Token]:
    """Every live login and automation token (one-time job tokens last minutes and are not listed)."""
    conn = connect(project)
    try:
        now = time.time()
        rows = conn.execute("SELECT * FROM cli_tokens WHERE revoked_at IS NULL AND expires_at > ? AND kind != 'job' "
                            "AND (kind != 'login' OR COALESCE(last_used, created_at) >= ?) ORDER BY id DESC LIMIT 500",
                            (now, now - LOGIN_IDLE_S)).fetchall()
    finally:
        conn.close()
    return [_token(r) for r in rows]
