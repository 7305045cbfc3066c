"""What would be sent at a moment, and why, without sending (``python -m outreach preview --at …``);
and where things stand (``python -m outreach status``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from credit.catalogue.loader import Catalogue
from credit.db.engine import session_scope
from credit.db.outreach import OutreachAttempt, OutreachNotice
from credit.policy import CHINA_TZ
from outreach.facts import plan
from outreach.rules import decide


@dataclass(frozen=True)
class PreviewRow:
    key: str
    subject: str  # application or ticket number
    kind: str
    template: str  # the rule's name
    channel: str  # "-" when nothing would go out
    verdict: str  # 发送 / 暂缓 / 不发 / 已发送 …
    why: str


STATE_WORDS = {"sent": "已发送", "given_up": "已放弃", "suppressed": "不发", "sending": "发送中", "failed": "失败"}


def preview(engine: Engine, cat: Catalogue, at: datetime, channels: Mapping[str, Any]) -> List[PreviewRow]:
    rows: List[PreviewRow] = []
    with session_scope(engine) as session:
        existing = {n.key: n for n in session.execute(select(OutreachNotice)).scalars()}
        for item in plan(session, cat, at):
            rule = cat.outreach.rule(item.kind)
            known = existing.get(item.key)
            if known is not None and known.status != "pending":
                rows.append(PreviewRow(item.key, item.subject, item.kind, rule.name, known.channel or "-",
                                       STATE_WORDS.get(known.status, known.status), known.reason or "不会重复发送"))
                continue
            probe = OutreachNotice(key=item.key, kind=item.kind, customer_id=item.customer_id, subject=item.subject,
                                   mandatory=item.mandatory, due_at=item.due_at, fields=json.dumps(item.fields))
            decision = decide(session, cat.outreach, rule, probe, at, channels)
            verdict = {"send": "发送", "hold": "暂缓", "suppress": "不发"}[decision.action]
            due = item.due_at.astimezone(CHINA_TZ)
            why = decision.reason + (f"（北京时间 {due:%m-%d %H:%M} 起到期）" if decision.action == "send" else "")
            rows.append(PreviewRow(item.key, item.subject, item.kind, rule.name, decision.channel or "-", verdict, why))
        session.rollback()  # a preview writes nothing
    return rows


def status(engine: Engine) -> Dict[str, object]:
    with session_scope(engine) as session:
        counts = dict(session.execute(select(OutreachNotice.status, func.count(OutreachNotice.id))
                                      .group_by(OutreachNotice.status)).all())
        recent = session.execute(select(OutreachAttempt, OutreachNotice.key)
                                 .join(OutreachNotice, OutreachNotice.id == OutreachAttempt.notice_id)
                                 .order_by(OutreachAttempt.id.desc()).limit(10)).all()
        return {"notices": counts,
                "recent": [f"{a.at.astimezone(CHINA_TZ):%m-%d %H:%M} {key} {a.channel or '-'} {a.outcome} "
                           f"{a.detail[:60]}" for a, key in recent]}


__all__ = ["PreviewRow", "preview", "status"]
