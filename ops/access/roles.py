"""Which role reaches which page or command — the one table the console's guard, its navigation, the
command line (:mod:`ops.access.identity`) and the tests read.

Admin is not a super-user: it manages accounts only (a person who also labels gets annotator too).
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Tuple

ALL = frozenset({"admin", "annotator", "trainer", "approver", "auditor", "agent"})

# permission -> roles holding it
PERMISSIONS: Dict[str, FrozenSet[str]] = {
    "dashboard": ALL,
    "inbox": frozenset({"annotator"}),
    "data.view": frozenset({"annotator", "trainer"}),
    "data.edit": frozenset({"annotator"}),
    "models.view": frozenset({"trainer", "approver", "auditor"}),
    "models.train": frozenset({"trainer"}),
    "models.promote": frozenset({"approver"}),
    "jobs.view": frozenset({"trainer", "approver", "auditor"}),
    "conversations": frozenset({"auditor", "annotator"}),
    "pipl.view": frozenset({"admin", "approver", "auditor"}),
    "pipl.file": frozenset({"admin", "approver"}),
    "pipl.decide": frozenset({"approver"}),
    "audit": frozenset({"admin", "auditor"}),
    "users": frozenset({"admin"}),
    "tickets.close": frozenset({"agent"}),
    "callbacks": frozenset({"agent"}),
}

# navigation: (path, label, permission)
NAV: List[Tuple[str, str, str]] = [
    ("/dashboard", "运营看板", "dashboard"),
    ("/inbox", "未识别问题", "inbox"),
    ("/data", "训练数据", "data.view"),
    ("/models", "训练与上线", "models.view"),
    ("/conversations", "对话查看", "conversations"),
    ("/pipl", "个人信息申请", "pipl.view"),
    ("/audit", "审计日志", "audit"),
    ("/users", "用户管理", "users"),
]

# `python -m ops <verb>` -> the permission it needs: the console's, for the same act.  Export reads the
# customers' messages the inbox shows; import and undo-import edit training data; a ticket is closed and
# call-back numbers are read by the service agents.  The verbs not listed (validate, evaluate, status,
# serve, login, logout, whoami) change no record of anyone and show no customer's data.
VERBS: Dict[str, str] = {
    "export": "inbox",
    "import": "data.edit",
    "undo-import": "data.edit",
    "train": "models.train",
    "promote": "models.promote",
    "rollback": "models.promote",
    "callbacks": "callbacks",
    "tickets close": "tickets.close",
    "pipl list": "pipl.view",
    "pipl find": "pipl.file",
    "pipl request": "pipl.file",
    "pipl approve": "pipl.decide",
    "pipl reject": "pipl.decide",
    "user add": "users",
    "user list": "users",
    "user roles": "users",
    "user passwd": "users",
    "user disable": "users",
    "user enable": "users",
    "user unlock": "users",
}


def allowed(roles: List[str], permission: str) -> bool:
    return bool(PERMISSIONS[permission] & set(roles))


def role_names(permission: str) -> List[str]:
    return sorted(PERMISSIONS[permission])
