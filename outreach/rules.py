"""Whether a notice may go out now, and to which of the borrower's own contact points.

In order: contact hours (Beijing time, stated in the catalogue; the hosts run on UTC), the daily
cap per customer (mandatory notices are not counted and not capped), then the first channel of the
rule on which the borrower has a *verified* contact point that is subscribed — or, for a mandatory
notice, verified at all (退订 does not silence a notice the law requires).  Emergency contacts are
another table and are never looked at.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from credit.catalogue.outreach import NoticeRule, OutreachRules
from credit.db.outreach import ContactPoint, OutreachNotice
from outreach.facts import beijing_day, opening


@dataclass(frozen=True)
class Decision:
    action: str  # send | hold | suppress
    reason: str
    channel: Optional[str] = None
    contact: Optional[ContactPoint] = None
    until: Optional[datetime] = None  # hold: when to look again


def next_opening(rules: OutreachRules, now: datetime) -> datetime:
    today = opening(beijing_day(now), rules.opens)
    return today if now < today else opening(beijing_day(now) + timedelta(days=1), rules.opens)


def in_contact_hours(rules: OutreachRules, now: datetime) -> bool:
    local = now.astimezone(opening(beijing_day(now), rules.opens).tzinfo).time()
    return rules.opens <= local < rules.closes


def sent_today(session: Session, customer_id: int, now: datetime) -> int:
    """Contacts counted against the daily cap: today's sent notices and those another engine has claimed
    today and is still delivering (two engines would otherwise both send the customer's last allowed one;
    found by tests/scale/test_outreach_postgres.py).  Mandatory notices are not counted."""
    start = opening(beijing_day(now), datetime.min.time())
    return session.execute(select(func.count(OutreachNotice.id)).where(
        OutreachNotice.customer_id == customer_id, OutreachNotice.mandatory.is_(False),
        or_(and_(OutreachNotice.status == "sent", OutreachNotice.sent_at >= start),
            and_(OutreachNotice.status == "sending", OutreachNotice.claimed_at >= start)))).scalar_one()


def decide(session: Session, rules: OutreachRules, rule: NoticeRule, notice: OutreachNotice, now: datetime,
           available: Mapping[str, Any]) -> Decision:
    """``available``: the registered channels by name (each says which notice kinds it can carry)."""
    if not notice.mandatory and now - notice.due_at > timedelta(hours=rule.max_age_hours):
        return Decision("suppress", f"已过时效（到期后 {rule.max_age_hours} 小时内未能发出，内容已不准确）")
    if not in_contact_hours(rules, now):
        until = next_opening(rules, now)
        return Decision("hold", f"不在联系时间（北京时间 {rules.contact_start}–{rules.contact_end}），"
                                f"{until:%m-%d %H:%M} 再发", until=until)
    if not notice.mandatory and sent_today(session, notice.customer_id, now) >= rules.daily_cap:
        until = opening(beijing_day(now) + timedelta(days=1), rules.opens)
        return Decision("hold", f"今天已联系 {rules.daily_cap} 次（每日上限），明天再发", until=until)
    points = session.execute(select(ContactPoint).where(
        ContactPoint.customer_id == notice.customer_id, ContactPoint.verified.is_(True))).scalars().all()
    unsubscribed = []
    for channel in rule.channels:
        if channel not in available or not available[channel].handles(notice.kind):
            continue
        for point in (p for p in points if p.channel == channel):
            if point.subscribed or notice.mandatory:
                return Decision("send", "法定告知，退订也须送达" if not point.subscribed else "按规则发送",
                                channel, point)
            unsubscribed.append(channel)
    if unsubscribed:
        return Decision("suppress", f"客户已退订（{'、'.join(unsubscribed)}）")
    return Decision("suppress", "客户本人没有可用的已核实联系方式")


__all__ = ["Decision", "decide", "in_contact_hours", "next_opening", "sent_today"]
