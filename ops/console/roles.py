"""Which role reaches which page — the one table the guard, the navigation and the tests read.

Admin is not a super-user: it manages accounts only (a person who also labels gets annotator too).
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Tuple

ALL = frozenset({"admin", "annotator", "trainer", "approver", "auditor"})

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


def allowed(roles: List[str], permission: str) -> bool:
    return bool(PERMISSIONS[permission] & set(roles))
