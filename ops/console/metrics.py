"""Dashboard figures, computed once here for the console and its CSV exports (see docs/ops-metrics.md).

Sources: the Rasa SQL tracker store (`events` table, the same one `ops export` reads) and the credit
database (tickets, handoffs, risk events; `credit.db` models, `DATABASE_URL`). Days are local server
days, like `ops export`; the channel is the conversation id's prefix (`ops.retrain.export.channel_of`).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ops.retrain.export import (
    FALLBACK_ACTIONS,
    FALLBACK_INTENT,
    HANDOFF_ACTIONS,
    _engine,
    _events_table,
    channel_of,
)

COMPLAINT_INTENTS = {"complain"}
NEAR_DEADLINE_HOURS = 24
HANDOFF_REASONS = {"request_human": "客户要求转人工", "complain": "投诉", FALLBACK_INTENT: "未识别(兜底)",
                   "report_fraud": "报告欺诈", "urgent_need": "紧急求助", "": "其他/流程内转人工"}
COMPLAINT_LABELS = {"slow": "审批/放款慢", "fee": "费用", "attitude": "服务态度", "collection": "催收", "other": "其他",
                    None: "未分类"}


@dataclass
class Conversation:
    sender_id: str
    channel: str
    day: str  # local date of its first event in the period
    user_turns: List[Tuple[str, str, float]] = field(default_factory=list)  # (day, intent, confidence)
    fallbacks: int = 0
    handoff: bool = False
    handoff_reason: str = ""
    complaint: bool = False


@dataclass
class Figures:
    since: dt.date
    until: dt.date
    channel: str
    days: List[str]
    conversations: Dict[str, int]  # per day
    engaged: Dict[str, int]  # conversations with at least one customer message, per day
    contained: Dict[str, int]
    turns: Dict[str, int]
    fallbacks: Dict[str, int]
    handoffs: Dict[str, int]
    handoff_reasons: Counter
    intents: Counter
    intent_days: Dict[str, Counter]
    by_channel: Dict[str, Dict[str, int]]
    complaint_categories: Counter
    open_near_deadline: List[Dict[str, Any]]
    risk_events: Counter
    outreach: Optional[Dict[str, int]] = None
    interceptions: List[Any] = field(default_factory=list)  # credit.guard.records.InterceptionView, oldest first

    def total(self, name: str) -> int:
        return sum(getattr(self, name).values())

    @staticmethod
    def rate(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    @property
    def containment(self) -> float:
        return self.rate(self.total("contained"), self.total("engaged"))

    @property
    def fallback_rate(self) -> float:
        return self.rate(self.total("fallbacks"), self.total("turns"))

    @property
    def handoff_rate(self) -> float:
        return self.rate(self.total("handoffs"), self.total("engaged"))


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d")


def _bounds(since: dt.date, until: dt.date) -> Tuple[float, float]:
    start = dt.datetime.combine(since, dt.time()).timestamp()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).timestamp()
    return start, end


def read_tracker(db_url: str, since: dt.date, until: dt.date, channel: str = "") -> List[Conversation]:
    """One Conversation per sender id with any user/bot event in the period."""
    import sqlalchemy as sa

    start, end = _bounds(since, until)
    events = _events_table()
    query = (sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.action_name,
                       events.c.data)
             .where(sa.and_(events.c.timestamp >= start, events.c.timestamp < end,
                            events.c.type_name.in_(["user", "action", "bot"])))
             .order_by(events.c.sender_id, events.c.timestamp, events.c.id))
    out: Dict[str, Conversation] = {}
    last_intent: Dict[str, str] = {}
    with _engine(db_url).connect() as conn:
        for sender_id, type_name, timestamp, action_name, raw in conn.execute(query):
            chan = channel_of(sender_id)
            if channel and chan != channel:
                continue
            conv = out.get(sender_id)
            if conv is None:
                conv = out[sender_id] = Conversation(sender_id, chan, _day(float(timestamp)))
            if type_name == "user":
                data = _json(raw)
                intent = (data.get("parse_data") or {}).get("intent") or {}
                name = str(intent.get("name") or "")
                conv.user_turns.append((_day(float(timestamp)), name, float(intent.get("confidence") or 0)))
                last_intent[sender_id] = name
                if name == FALLBACK_INTENT:
                    conv.fallbacks += 1
                if name in COMPLAINT_INTENTS:
                    conv.complaint = True
            elif type_name == "action" and conv.user_turns:
                if action_name in FALLBACK_ACTIONS and conv.user_turns[-1][1] != FALLBACK_INTENT:
                    conv.fallbacks += 1
                    conv.user_turns[-1] = (conv.user_turns[-1][0], FALLBACK_INTENT, conv.user_turns[-1][2])
                if action_name in HANDOFF_ACTIONS:
                    _handoff(conv, last_intent.get(sender_id, ""))
            elif type_name == "bot":
                custom = ((_json(raw).get("data") or {}).get("custom")) or {}
                if isinstance(custom, dict) and custom.get("type") == "handoff":
                    _handoff(conv, last_intent.get(sender_id, ""))
    return list(out.values())


def _handoff(conv: Conversation, intent: str) -> None:
    if not conv.handoff:
        conv.handoff = True
        conv.handoff_reason = HANDOFF_REASONS.get(intent, intent or HANDOFF_REASONS[""])


def _json(raw: Any) -> Dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


def read_credit(credit_url: Optional[str], since: dt.date, until: dt.date, channel: str = "",
                now: Optional[dt.datetime] = None) -> Dict[str, Any]:
    """Complaint tickets, handoffs and risk events of the period from the credit database."""
    empty: Dict[str, Any] = {"complaint_senders": set(), "handoff_senders": set(), "categories": Counter(),
                             "near": [], "risk": Counter(), "interceptions": []}
    if credit_url is None:
        return empty
    from sqlalchemy import inspect

    from credit.db.engine import get_engine, session_scope
    from credit.db.tickets import Handoff, RiskEvent, Ticket

    if credit_url.startswith("sqlite:///") and not _sqlite_exists(credit_url):
        return empty
    engine = get_engine(credit_url)
    if not inspect(engine).has_table("tickets"):
        return empty
    start, end = (dt.datetime.fromtimestamp(t, dt.timezone.utc) for t in _bounds(since, until))
    now = now or dt.datetime.now(dt.timezone.utc)

    def keep(sender: str) -> bool:
        return not channel or channel_of(sender) == channel

    with session_scope(engine) as session:
        for t in session.query(Ticket).filter(Ticket.created_at >= start, Ticket.created_at < end):
            if keep(t.sender_id) and t.kind == "complaint":
                empty["complaint_senders"].add(t.sender_id)
                empty["categories"][COMPLAINT_LABELS.get(t.category, t.category or "未分类")] += 1
        horizon = now + dt.timedelta(hours=NEAR_DEADLINE_HOURS)
        near = session.query(Ticket).filter(Ticket.status == "open", Ticket.due_at <= horizon)
        for t in near.order_by(Ticket.due_at):
            if keep(t.sender_id):
                hours = (t.due_at - now).total_seconds() / 3600
                empty["near"].append({"number": t.number, "kind": t.kind, "category": t.category or "",
                                      "due_at": t.due_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                                      "hours_left": round(hours, 1), "overdue": hours < 0})
        for h in session.query(Handoff).filter(Handoff.created_at >= start, Handoff.created_at < end):
            if keep(h.sender_id):
                empty["handoff_senders"].add(h.sender_id)
        for r in session.query(RiskEvent).filter(RiskEvent.created_at >= start, RiskEvent.created_at < end):
            if keep(r.sender_id):
                empty["risk"][r.kind] += 1
    if inspect(engine).has_table("compliance_interceptions"):  # the output guard's audit (credit/guard)
        from credit.guard.records import between

        empty["interceptions"] = [i for i in between(engine, start, end) if not channel or i.channel == channel]
    engine.dispose()
    return empty


def _sqlite_exists(url: str) -> bool:
    from pathlib import Path

    from credit.db.engine import resolve_database_url

    return Path(resolve_database_url(url)[len("sqlite:///"):]).exists()


def compute(tracker_url: str, credit_url: Optional[str], since: dt.date, until: dt.date, channel: str = "",
            now: Optional[dt.datetime] = None) -> Figures:
    if since > until:
        from ops.project import OpsError

        raise OpsError(f"开始日期 {since} 晚于结束日期 {until}。")
    days = [(since + dt.timedelta(days=i)).isoformat() for i in range((until - since).days + 1)]
    credit = read_credit(credit_url, since, until, channel, now)
    zero: Dict[str, int] = dict.fromkeys(days, 0)
    f = Figures(since, until, channel, days, dict(zero), dict(zero), dict(zero), dict(zero), dict(zero), dict(zero),
                Counter(), Counter(), defaultdict(Counter), {}, credit["categories"], credit["near"], credit["risk"],
                interceptions=credit["interceptions"])
    for conv in read_tracker(tracker_url, since, until, channel):
        if conv.sender_id in credit["handoff_senders"] and not conv.handoff:
            _handoff(conv, "")
        complaint = conv.complaint or conv.sender_id in credit["complaint_senders"]
        f.conversations[conv.day] += 1
        chan = f.by_channel.setdefault(conv.channel, {"conversations": 0, "engaged": 0, "contained": 0,
                                                      "turns": 0, "fallbacks": 0, "handoffs": 0})
        chan["conversations"] += 1
        if conv.user_turns:
            f.engaged[conv.day] += 1
            chan["engaged"] += 1
            if not conv.handoff and not complaint:
                f.contained[conv.day] += 1
                chan["contained"] += 1
            if conv.handoff:
                f.handoffs[conv.day] += 1
                chan["handoffs"] += 1
                f.handoff_reasons[conv.handoff_reason] += 1
        for day, intent, _ in conv.user_turns:
            f.turns[day] += 1
            chan["turns"] += 1
            if intent == FALLBACK_INTENT:
                f.fallbacks[day] += 1
                chan["fallbacks"] += 1
            elif intent:
                f.intents[intent] += 1
                f.intent_days[intent][day] += 1
    return f


def tables(f: Figures, top: int = 10) -> Dict[str, Tuple[List[str], List[List[Any]]]]:
    """Every figure as (header, rows) — what the page shows and what each CSV export holds."""
    daily = [[d, f.conversations[d], f.engaged[d], f.contained[d], Figures.rate(f.contained[d], f.engaged[d]),
              f.turns[d], f.fallbacks[d], Figures.rate(f.fallbacks[d], f.turns[d]), f.handoffs[d],
              Figures.rate(f.handoffs[d], f.engaged[d])] for d in f.days]
    totals = ["合计", f.total("conversations"), f.total("engaged"), f.total("contained"), f.containment,
              f.total("turns"), f.total("fallbacks"), f.fallback_rate, f.total("handoffs"), f.handoff_rate]
    top_intents = [i for i, _ in f.intents.most_common(top)]
    half = len(f.days) // 2
    trend = []
    for intent in top_intents:
        first = sum(f.intent_days[intent][d] for d in f.days[:half])
        second = sum(f.intent_days[intent][d] for d in f.days[half:])
        trend.append([intent, f.intents[intent], first, second, second - first])
    return {
        "daily": (["日期", "对话数", "有客户消息的对话", "自助解决对话", "自助解决率", "客户消息数", "兜底次数",
                   "兜底率",
                   "转人工对话", "转人工率"], daily + [totals]),
        "channels": (["渠道", "对话数", "有客户消息的对话", "自助解决对话", "客户消息数", "兜底次数", "转人工对话"],
                     [[c, v["conversations"], v["engaged"], v["contained"], v["turns"], v["fallbacks"], v["handoffs"]]
                      for c, v in sorted(f.by_channel.items())]),
        "handoff_reasons": (["转人工原因", "对话数"], [[k, v] for k, v in f.handoff_reasons.most_common()]),
        "intents": (["意图", "消息数", "前半段", "后半段", "变化"], trend),
        "intent_days": (["意图"] + f.days, [[i] + [f.intent_days[i][d] for d in f.days] for i in top_intents]),
        "complaints": (["投诉类别", "工单数"], [[k, v] for k, v in f.complaint_categories.most_common()]),
        "deadlines": (["工单号", "类型", "类别", "截止时间", "剩余小时", "已超期"],
                      [[t["number"], t["kind"], t["category"], t["due_at"], t["hours_left"],
                        "是" if t["overdue"] else ""] for t in f.open_near_deadline]),
        "risk": (["风险事件类型", "次数"], [[k, v] for k, v in f.risk_events.most_common()]),
        **interception_tables(f),
    }


def interception_tables(f: Figures) -> Dict[str, Tuple[List[str], List[List[Any]]]]:
    """The output guard's interceptions: per rule and day, and each one with its conversation."""
    from credit.compliance import RULE_LABELS

    per: Dict[str, Counter] = defaultdict(Counter)
    for item in f.interceptions:
        per[item.rule][item.created_at.astimezone().strftime("%Y-%m-%d")] += 1
    by_rule = [[rule, RULE_LABELS.get(rule, rule)] + [per[rule][d] for d in f.days] + [sum(per[rule].values())]
               for rule in sorted(per, key=lambda r: -sum(per[r].values()))]
    listed = [[i.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"), i.channel, i.rule,
               INTERCEPTION_DECISIONS.get(i.decision, i.decision), i.intent, i.action, i.response, i.text, i.model_id,
               i.sender_id] for i in reversed(f.interceptions)]
    return {"interceptions": (["规则", "说明", *f.days, "合计"], by_rule),
            "interception_list": (["时间", "渠道", "规则", "处理", "意图", "动作", "回复模板", "被拦截的内容（已脱敏）",
                                   "模型", "对话"], listed)}


INTERCEPTION_DECISIONS = {"masked": "已脱敏后发送", "replaced": "已替换并转人工", "withheld": "未发送"}


TABLE_TITLES = {"daily": "每日概况", "channels": "各渠道", "handoff_reasons": "转人工原因", "intents": "热门意图及趋势",
                "intent_days": "热门意图每日消息数", "complaints": "投诉类别", "deadlines": "临近截止的未结工单",
                "risk": "风险事件", "interceptions": "合规拦截（按规则、按天）", "interception_list": "合规拦截明细"}


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """UTF-8 CSV (with BOM for Excel) whose text cells cannot run as formulas."""
    import csv
    import io

    from ops.text import neutralise_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in [list(header)] + [list(r) for r in rows]:
        writer.writerow([neutralise_cell(v) if isinstance(v, str) else v for v in row])
    return "\ufeff" + buffer.getvalue()
