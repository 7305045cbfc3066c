"""Conversation viewer: search the tracker store by channel, date, intent or ticket; masked transcripts.

Every text shown (customer and bot) goes through `ops.text.mask_text`; each customer turn carries
the intent and confidence the NLU gave it. Ticket numbers are looked up in the credit database.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ops.retrain.export import _engine, _events_table, channel_of
from ops.text import mask_text

MAX_RESULTS = 200


@dataclass
class Summary:
    sender_id: str
    channel: str
    first: str
    last: str
    turns: int
    intents: List[str]


@dataclass
class Line:
    when: str
    who: str  # "客户" / "机器人" / "动作"
    text: str
    intent: str = ""
    confidence: Optional[float] = None


def ticket_senders(credit_url: Optional[str], number: str) -> List[str]:
    if not credit_url or not number:
        return []
    from credit.db.engine import get_engine, session_scope
    from credit.db.tickets import Ticket

    engine = get_engine(credit_url)
    try:
        with session_scope(engine) as session:
            return [t.sender_id for t in session.query(Ticket).filter(Ticket.number == number.strip().upper())]
    except Exception:
        return []
    finally:
        engine.dispose()


def search(tracker_url: str, since: dt.date, until: dt.date, channel: str = "", intent: str = "",
           senders: Optional[List[str]] = None) -> List[Summary]:
    import sqlalchemy as sa

    start = dt.datetime.combine(since, dt.time()).timestamp()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).timestamp()
    events = _events_table()
    where = [events.c.timestamp >= start, events.c.timestamp < end, events.c.type_name == "user"]
    if senders is not None:
        if not senders:
            return []
        where.append(events.c.sender_id.in_(senders))
    query = (sa.select(events.c.sender_id, sa.func.min(events.c.timestamp), sa.func.max(events.c.timestamp),
                       sa.func.count()).where(sa.and_(*where)).group_by(events.c.sender_id)
             .order_by(sa.func.max(events.c.timestamp).desc()))
    out: List[Summary] = []
    with _engine(tracker_url).connect() as conn:
        for sender_id, first, last, turns in conn.execute(query):
            if channel and channel_of(sender_id) != channel:
                continue
            names = [r[0] for r in conn.execute(
                sa.select(events.c.intent_name).where(sa.and_(events.c.sender_id == sender_id, *where[:3]))
                .distinct()) if r[0]]
            if intent and intent not in names:
                continue
            out.append(Summary(sender_id, channel_of(sender_id), _when(first), _when(last), int(turns), names))
            if len(out) >= MAX_RESULTS:
                break
    return out


def _when(ts: Any) -> str:
    return dt.datetime.fromtimestamp(float(ts or 0)).strftime("%Y-%m-%d %H:%M:%S")


def transcript(tracker_url: str, sender_id: str) -> List[Line]:
    import sqlalchemy as sa

    events = _events_table()
    query = (sa.select(events.c.type_name, events.c.timestamp, events.c.action_name, events.c.data)
             .where(sa.and_(events.c.sender_id == sender_id, events.c.type_name.in_(["user", "bot", "action"])))
             .order_by(events.c.timestamp, events.c.id))
    lines: List[Line] = []
    with _engine(tracker_url).connect() as conn:
        for type_name, ts, action_name, raw in conn.execute(query):
            try:
                data: Dict[str, Any] = json.loads(raw or "{}")
            except ValueError:
                data = {}
            if type_name == "user":
                intent = ((data.get("parse_data") or {}).get("intent")) or {}
                lines.append(Line(_when(ts), "客户", mask_text(str(data.get("text") or "")),
                                  str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)))
            elif type_name == "bot":
                lines.append(Line(_when(ts), "机器人", mask_text(str(data.get("text") or ""))))
            elif action_name and action_name != "action_listen":
                lines.append(Line(_when(ts), "动作", str(action_name)))
    return lines
