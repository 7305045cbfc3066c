"""Who runs a command-line verb: the console account proven by a login or a token, never a typed name.

:func:`require` is called first by every verb that changes a record or shows a customer's data: it finds
the token (``OPS_TOKEN``, else the OS user's login file, :mod:`ops.access.session_file`), checks it
(:mod:`ops.access.tokens`), reads the account's roles live and checks the verb's permission in the
console's one table (:data:`ops.access.roles.VERBS`).  Without a login it raises :class:`NotLoggedIn`
(exit code 1, nothing else done, the message says how to log in); a role short of the permission raises
:class:`Forbidden` and is audited like a console refusal.  :func:`record` writes the audit entry with the
account, the OS user and the host.
"""
from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from ops.access import audit, session_file, tokens, users
from ops.access.roles import PERMISSIONS, VERBS, allowed
from ops.project import OpsError, Project
from ops.statedb import db_path

LOGIN_HINT = ("请先登录：python -m ops login（用运营控制台的账号和密码）；"
              "自动化脚本请设置 OPS_TOKEN（由管理员在控制台「用户管理」页签发）。")


class NotLoggedIn(OpsError):
    """No (live) login or token: the verb did nothing."""


class Forbidden(OpsError):
    """The account's roles do not hold the verb's permission."""


@dataclass(frozen=True)
class Operator:
    username: str
    display: str
    roles: Tuple[str, ...]
    via: str  # login | automation | job
    os_user: str
    host: str
    token_id: int = 0
    issued_by: str = ""  # the admin who issued an automation token
    expires_at: float = 0.0

    def can(self, permission: str) -> bool:
        return allowed(list(self.roles), permission)

    @property
    def accountable(self) -> Tuple[str, ...]:
        """Everyone answerable for what this operator does: the account, and an automation token's issuer."""
        return tuple(dict.fromkeys(n for n in (self.username, self.issued_by) if n))

    @property
    def role_labels(self) -> str:
        return "、".join(users.ROLES.get(r, r) for r in self.roles)


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return os.environ.get("USER") or f"uid{os.getuid()}"


def host() -> str:
    return socket.gethostname() or "localhost"


def session_key(project: Project) -> str:
    """Which login file entry belongs to this project: its console database, by real path."""
    return str(db_path(project).resolve())


def current(project: Project) -> Optional[Operator]:
    """The proven operator, or None when there is no login; :class:`NotLoggedIn` for a dead token."""
    me, here = os_user(), host()
    token = os.environ.get("OPS_TOKEN", "").strip()
    source = "OPS_TOKEN"
    if not token:
        entry = session_file.read(session_key(project))
        if entry is None:
            return None
        token, source = entry["token"], "登录"
    found, reason = tokens.check(project, token, me, here)
    if found is None:
        if source == "登录":  # a dead login leaves the file, and the server (a copied file is worth nothing)
            session_file.forget(session_key(project))
            tokens.revoke_token(project, token, me)
        raise NotLoggedIn(f"{source} 无效：{reason}。{LOGIN_HINT}")
    user = users.get(project, found.username)
    if user is None or not user.active:
        raise NotLoggedIn(f"账号 {found.username} 已停用或不存在。{LOGIN_HINT}")
    issuer = found.created_by if found.kind == "automation" else ""
    return Operator(user.username, user.display, tuple(user.roles), found.kind, me, here, found.id, issuer,
                    found.expires_at)


def require(project: Project, verb: str) -> Operator:
    """The operator allowed to run ``verb`` (a key of :data:`VERBS`), or :class:`NotLoggedIn` / :class:`Forbidden`."""
    permission = VERBS[verb]
    operator = current(project)
    if operator is None:
        raise NotLoggedIn(LOGIN_HINT)
    if not operator.can(permission):
        record(project, operator, "denied", f"python -m ops {verb}")
        needed = "、".join(users.ROLES.get(r, r) for r in sorted(PERMISSIONS[permission]))
        raise Forbidden(f"账号 {operator.username}（{operator.role_labels or '无角色'}）无权执行 python -m ops {verb}："
                        f"需要{needed}角色。如需开通请联系管理员。")
    return operator


def record(project: Project, operator: Operator, action: str, target: str = "", detail: Any = "") -> None:
    """One audit entry for a command-line act: the account, and the OS user, host and way in."""
    via = operator.via + (f"#{operator.token_id}" if operator.via == "automation" else "")
    audit.record(project, operator.username, action, target, detail, os_user=operator.os_user, host=operator.host,
                 via=via)
