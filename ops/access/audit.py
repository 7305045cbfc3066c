"""The audit log: who did what, when (and from where). Append-only; read by admins and auditors.

Every console request that changes something or shows customer data writes one entry, and so does
every command-line verb that does (:func:`ops.access.identity.record`): the account proven by a login
or a token, plus the OS user and host it ran as, and how it was proven (``via``). Details never hold
unmasked personal data (callers pass masked text).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any, List, Optional

from ops.project import Project
from ops.statedb import connect

ACTIONS = {
    "login": "登录", "login_failed": "登录失败", "logout": "退出", "user_add": "新增用户", "user_roles": "修改角色",
    "user_password": "重设密码", "user_disable": "停用用户", "user_enable": "启用用户", "user_unlock": "解除锁定",
    "inbox_label": "标注消息", "inbox_skip": "跳过消息", "inbox_flag": "标记新需求", "inbox_view": "查看待标注",
    "data_add": "新增训练样本", "data_retire": "下线训练样本", "job_start": "启动任务", "job_end": "任务结束",
    "promote": "上线", "promote_refused": "上线被拒", "rollback": "回滚", "conversation_view": "查看对话",
    "conversation_search": "搜索对话", "dashboard_view": "查看看板", "csv_export": "导出 CSV",
    "pipl_search": "个人信息查询", "pipl_request": "个人信息申请", "pipl_approve": "批准个人信息申请",
    "pipl_reject": "驳回个人信息申请", "pipl_download": "下载个人信息", "audit_view": "查看审计日志",
    "denied": "越权访问被拒", "csrf_refused": "CSRF 校验失败",
    "ticket_close": "办结工单", "ticket_close_refused": "办结工单被拒", "callbacks_viewed": "查看待回电号码",
    "export": "导出待标注消息", "import": "导入标注", "undo_import": "撤销导入", "train": "训练候选模型",
    "token_issue": "签发命令行令牌", "token_revoke": "吊销命令行令牌",
}
# how a command-line entry's account was proven (console entries leave it empty and carry the address)
VIA = {"login": "命令行登录", "automation": "OPS_TOKEN 令牌", "job": "控制台任务", "local": "本机（首个管理员）"}


@dataclass
class Entry:
    id: int
    at: float
    who: str
    action: str
    target: str
    detail: str
    ip: str
    os_user: str = ""
    host: str = ""
    via: str = ""

    @property
    def source(self) -> str:
        """Where it came from: the console's client address, or the command line's way in, OS user and host."""
        if not self.via:
            return self.ip
        kind, _, token = self.via.partition("#")  # automation#<token id>
        return f"{VIA.get(kind, kind)}{f' #{token}' if token else ''} {self.os_user}@{self.host}"

    @property
    def when(self) -> str:
        return dt.datetime.fromtimestamp(self.at).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def record(project: Project, who: str, action: str, target: str = "", detail: Any = "", ip: str = "",
           os_user: str = "", host: str = "", via: str = "") -> None:
    if not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    conn = connect(project)
    try:
        conn.execute("INSERT INTO audit (at, who, action, target, detail, ip, os_user, host, via) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (time.time(), who or "-", action, target[:500], detail[:4000], ip[:64], os_user[:64],
                      host[:128], via[:16]))
    finally:
        conn.close()


def entries(project: Project, who: Optional[str] = None, action: Optional[str] = None, limit: int = 500
            ) -> List[Entry]:
    sql, args = "SELECT * FROM audit WHERE 1=1", []
    if who:
        sql += " AND who = ?"
        args.append(who)
    if action:
        sql += " AND action = ?"
        args.append(action)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(max(1, min(limit, 5000)))
    conn = connect(project)
    try:
        return [Entry(**dict(row)) for row in conn.execute(sql, args)]
    finally:
        conn.close()
