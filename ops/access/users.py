"""Console accounts: bcrypt password hashes, roles, lockout after repeated failed logins.

Roles (a user may hold several):
* admin — users and roles;     * annotator — labels messages, adds/retires training examples;
* trainer — trains, evaluates; * approver — promotes, rolls back, approves PIPL requests;
* auditor — read-only: dashboard, conversations, audit log;
* agent — customer service: closes tickets, reads the call-back numbers (command line).
Which role may do what is one table, :mod:`ops.access.roles`.
The first account (an admin) is made on the machine itself while there is none (:func:`add_first_admin`);
after that only an admin adds accounts.
Five wrong passwords in a row lock the account for 15 minutes (an admin can unlock it).
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import bcrypt

from ops.project import OpsError, Project
from ops.statedb import connect

ROLES = {"admin": "管理员", "annotator": "标注员", "trainer": "训练员", "approver": "审批人", "auditor": "审计员",
         "agent": "客服坐席"}
MAX_FAILED = 5
LOCK_SECONDS = 15 * 60
MIN_PASSWORD = 10
_NAME = re.compile(r"[A-Za-z0-9_.\-]{2,32}")
# a real hash to compare against for unknown users (same time as for known ones)
_DUMMY_HASH = bcrypt.hashpw(b"not-a-user-password", bcrypt.gensalt(rounds=10))


@dataclass
class User:
    username: str
    display: str
    roles: List[str]
    active: bool
    failed: int
    locked_until: float
    created_at: float
    created_by: str

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def locked(self) -> bool:
        return self.locked_until > time.time()

    @property
    def role_labels(self) -> str:
        return "、".join(ROLES.get(r, r) for r in self.roles)


def _row(row: object) -> User:
    d = dict(row)  # type: ignore[call-overload]
    return User(d["username"], d["display"], [r for r in d["roles"].split(",") if r], bool(d["active"]),
                d["failed"], d["locked_until"], d["created_at"], d["created_by"])


def parse_roles(values: Sequence[str]) -> List[str]:
    roles: List[str] = []
    for value in values:
        for role in re.split(r"[,，\s]+", value.strip()):
            if not role:
                continue
            if role not in ROLES:
                raise OpsError(f"没有角色「{role}」。可用角色：" + "、".join(f"{k}（{v}）" for k, v in ROLES.items()))
            if role not in roles:
                roles.append(role)
    if not roles:
        raise OpsError("至少要给一个角色。")
    return roles


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OpsError(f"密码太短：至少 {MIN_PASSWORD} 个字符。")
    if len(password.encode()) > 72:
        raise OpsError("密码太长：最多 72 个字节（bcrypt 的上限）。")
    if password.isdigit() or password.isalpha():
        raise OpsError("密码不能只有数字或只有字母。")


def hash_password(password: str) -> str:
    """bcrypt, cost 12 (OPS_BCRYPT_ROUNDS may lower it for the test suite only, never below 4)."""
    rounds = max(4, min(15, int(os.environ.get("OPS_BCRYPT_ROUNDS") or 12)))
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def get(project: Project, username: str) -> Optional[User]:
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    finally:
        conn.close()
    return _row(row) if row else None


def all_users(project: Project) -> List[User]:
    conn = connect(project)
    try:
        return [_row(r) for r in conn.execute("SELECT * FROM users ORDER BY username")]
    finally:
        conn.close()


def count(project: Project) -> int:
    conn = connect(project)
    try:
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
    finally:
        conn.close()


def _checked(username: str, password: str, roles: Sequence[str]) -> List[str]:
    if not _NAME.fullmatch(username or ""):
        raise OpsError("用户名只能包含 2–32 个字母、数字、点、下划线或短横线。")
    role_list = parse_roles(roles)
    check_password(password)
    return role_list


def _insert(conn: sqlite3.Connection, username: str, password: str, roles: List[str], display: str, by: str) -> None:
    if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise OpsError(f"用户 {username} 已存在。")
    conn.execute("INSERT INTO users (username, display, password_hash, roles, created_at, created_by) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (username, display.strip()[:40] or username,
                                               hash_password(password), ",".join(roles), time.time(), by))


def add(project: Project, username: str, password: str, roles: Sequence[str], display: str = "",
        by: str = "") -> User:
    role_list = _checked(username, password, roles)
    conn = connect(project)
    try:
        _insert(conn, username, password, role_list, display, by)
    finally:
        conn.close()
    return get(project, username)  # type: ignore[return-value]


def add_first_admin(project: Project, username: str, password: str, roles: Sequence[str], display: str = "",
                    by: str = "") -> User:
    """The first account, made on the machine while there is none: it must be an admin (else no one could
    ever add another).  The check and the insert are one transaction, so two at once cannot both win."""
    role_list = _checked(username, password, roles)
    if "admin" not in role_list:
        raise OpsError("还没有任何账号：第一个账号必须是管理员（--roles admin），之后由管理员开通其他账号。")
    conn = connect(project)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT count(*) FROM users").fetchone()[0]:
                raise OpsError("已经有账号了：新增账号需要管理员先登录（python -m ops login）。")
            _insert(conn, username, password, role_list, display, by)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
    return get(project, username)  # type: ignore[return-value]


def check_own_change(me: str, username: str, op: str, roles: Sequence[str] = ()) -> None:
    """An admin cannot take away their own admin role or disable themselves (someone must manage accounts)."""
    if username != me:
        return
    if op == "roles" and "admin" not in parse_roles(roles):
        raise OpsError("不能去掉自己的管理员角色（请由另一位管理员操作），以免没有人能管理账号。")
    if op == "disable":
        raise OpsError("不能停用自己的账号。")


def _update(project: Project, username: str, sql: str, args: Tuple) -> None:
    if not get(project, username):
        raise OpsError(f"没有用户 {username}。")
    conn = connect(project)
    try:
        conn.execute(f"UPDATE users SET {sql} WHERE username = ?", (*args, username))
    finally:
        conn.close()


def set_roles(project: Project, username: str, roles: Sequence[str]) -> None:
    _update(project, username, "roles = ?", (",".join(parse_roles(roles)),))


def set_password(project: Project, username: str, password: str) -> None:
    check_password(password)
    _update(project, username, "password_hash = ?, failed = 0, locked_until = 0", (hash_password(password),))


def set_active(project: Project, username: str, active: bool) -> None:
    _update(project, username, "active = ?", (1 if active else 0,))


def unlock(project: Project, username: str) -> None:
    _update(project, username, "failed = 0, locked_until = 0", ())


def authenticate(project: Project, username: str, password: str) -> Tuple[Optional[User], str]:
    """(user, "") on success, else (None, Chinese reason). Counts failures, locks after MAX_FAILED."""
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            bcrypt.checkpw(password.encode()[:72], _DUMMY_HASH)
            return None, "用户名或密码错误。"
        user = _row(row)
        if user.locked:
            minutes = int((user.locked_until - time.time()) // 60) + 1
            return None, f"密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试或联系管理员解锁。"
        if not bcrypt.checkpw(password.encode()[:72], row["password_hash"].encode()):
            failed = user.failed + 1
            until = time.time() + LOCK_SECONDS if failed >= MAX_FAILED else 0
            conn.execute("UPDATE users SET failed = ?, locked_until = ? WHERE username = ?",
                         (0 if until else failed, until, username))
            if until:
                return None, f"密码连续错误 {MAX_FAILED} 次，账号已锁定 {LOCK_SECONDS // 60} 分钟。"
            return None, "用户名或密码错误。"
        if not user.active:
            return None, "账号已停用，请联系管理员。"
        conn.execute("UPDATE users SET failed = 0 WHERE username = ?", (username,))
        return user, ""
    finally:
        conn.close()
