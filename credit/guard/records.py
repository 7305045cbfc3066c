"""The audit record of every interception (table ``compliance_interceptions``, :mod:`credit.db.interceptions`)
and, for a replaced message, the hand-off to a colleague (table ``handoffs``), in one transaction.

Every text stored here is masked again on the way in (:func:`credit.text.inputs.free_text`), whatever the
caller passed.  :func:`between` is what the ops console reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Engine

from credit import clock
from credit.db.engine import session_scope
from credit.db.interceptions import DECISIONS, Interception
from credit.db.tickets import Handoff
from credit.text import inputs

_NAME_CHARS = 100


@dataclass(frozen=True)
class Intercepted:
    """One interception as the guard saw it."""

    sender_id: str
    channel: str
    rules: Sequence[str]
    decision: str  # masked | replaced | withheld
    text: str  # the original as the customer would have seen it (masked here again)
    intent: str = ""
    action: str = ""
    response: str = ""
    model_id: str = ""
    handoff_summary: str = ""  # non-empty: open a hand-off to the colleague with this summary
    handoff_queue: str = "compliance"


@dataclass(frozen=True)
class InterceptionView:
    id: int
    created_at: datetime
    sender_id: str
    channel: str
    rule: str
    rules: tuple
    decision: str
    intent: str
    action: str
    response: str
    text: str
    model_id: str
    handoff_id: Optional[int]


def _name(value: str) -> Optional[str]:
    value = (value or "").strip()
    return value[:_NAME_CHARS] if value else None


def record(engine: Engine, items: Sequence[Intercepted], now: Optional[datetime] = None) -> List[int]:
    """Store the interceptions (and their hand-offs); the ids of the interception rows."""
    moment = now or clock.now()
    ids: List[int] = []
    with session_scope(engine) as session:
        for item in items:
            if item.decision not in DECISIONS:
                raise ValueError(f"unknown decision {item.decision!r}")
            sender = inputs.sender(item.sender_id)
            channel = inputs.code(item.channel or "rest", "渠道")
            handoff_id = None
            if item.handoff_summary:
                handoff = Handoff(sender_id=sender, channel=channel, queue=inputs.code(item.handoff_queue, "队列"),
                                  summary=inputs.free_text(item.handoff_summary, "摘要"), created_at=moment)
                session.add(handoff)
                session.flush()
                handoff_id = handoff.id
            rules = [r for r in item.rules if r] or ["unknown"]
            row = Interception(created_at=moment, sender_id=sender, channel=channel, rule=rules[0][:40],
                               rules=",".join(rules)[:300], decision=item.decision, intent=_name(item.intent),
                               action=_name(item.action), response=_name(item.response),
                               text=inputs.free_text(item.text, "回复"), model_id=_name(item.model_id),
                               handoff_id=handoff_id)
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def _view(row: Interception) -> InterceptionView:
    return InterceptionView(row.id, row.created_at, row.sender_id, row.channel, row.rule,
                            tuple(r for r in (row.rules or "").split(",") if r), row.decision, row.intent or "",
                            row.action or "", row.response or "", row.text or "", row.model_id or "",
                            row.handoff_id)


def between(engine: Engine, start: datetime, end: datetime, sender_id: Optional[str] = None) -> List[InterceptionView]:
    """Interceptions with ``start <= created_at < end`` (aware datetimes), oldest first."""
    query = select(Interception).where(Interception.created_at >= start, Interception.created_at < end)
    if sender_id is not None:
        query = query.where(Interception.sender_id == sender_id)
    with session_scope(engine) as session:
        return [_view(row) for row in session.execute(query.order_by(Interception.created_at,
                                                                     Interception.id)).scalars()]
