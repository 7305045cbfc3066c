"""What a conversation is replying to: the outreach notice last delivered to it, read from the database.

A customer often answers a notice much later than Rasa's 60-minute conversation session lasts
("怎么还" the next morning), so the context is not kept in slots but found again from the
notices table:

* WeChat (``wx:<openid>``): the latest notice *sent* to the borrower's verified contact point with that
  OpenID within the catalogue's ``outreach.reply_days``;
* an outbound call (``tel:notice-<id>`` / ``ivr:notice-<id>``): that notice itself; the call verifies who
  answered before anything of it is said (actions/outreach.py).

The instalment is read as it stands *now*, not as it stood when the notice was written, so "已经还了"
is checked against the repayment records.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Dict, Optional

from sqlalchemy import select

from credit.db.loans import Application, Loan, LoanInstallment
from credit.db.outreach import ContactPoint, OutreachNotice, RepaymentRecord
from credit.store import Store

CALL_PREFIXES = ("tel", "ivr")
CALL_ID = re.compile(r"^notice-(\d{1,12})$")
LIVE_STATES = ("sending", "sent")  # a call may be answered before the engine has written "sent"


@dataclass(frozen=True)
class InstalmentNow:
    period: int
    due_date: date
    payment: Decimal
    paid: bool
    last_success: Optional[datetime]  # the latest successful repayment or deduction on it
    last_failure: Optional[str]  # the reason of the latest failed deduction, if the latest attempt failed


@dataclass(frozen=True)
class NoticeContext:
    notice_id: int
    kind: str
    customer_id: int
    subject: str  # the application (or, for ticket notices, the ticket) number
    channel: str
    sent_at: Optional[datetime]
    fields: Dict[str, str]
    instalment: Optional[InstalmentNow]
    by_call: bool  # an outbound call: nothing of it is said before the person who answered is verified

    @property
    def application_id(self) -> Optional[str]:
        return self.subject if self.subject.startswith("SQ") else None


def call_notice_id(sender_id: str) -> Optional[int]:
    """The notice an outbound call's conversation is keyed by (``tel:notice-12`` -> 12)."""
    prefix, _, raw = sender_id.partition(":")
    match = CALL_ID.match(raw) if prefix in CALL_PREFIXES else None
    return int(match.group(1)) if match else None


def _instalment(session: Any, notice: OutreachNotice) -> Optional[InstalmentNow]:
    if notice.period is None or not notice.subject.startswith("SQ"):
        return None
    row = session.execute(
        select(LoanInstallment, Loan.id)
        .join(Loan, Loan.id == LoanInstallment.loan_id)
        .join(Application, Application.application_id == Loan.application_id)
        .where(Application.application_id == notice.subject, LoanInstallment.period == notice.period)
    ).first()
    if row is None:
        return None
    inst, loan_id = row
    records = session.execute(select(RepaymentRecord).where(
        RepaymentRecord.loan_id == loan_id, RepaymentRecord.period == notice.period)
        .order_by(RepaymentRecord.at.desc(), RepaymentRecord.id.desc())).scalars().all()
    success = next((r.at for r in records if r.result == "success"), None)
    failure = records[0].reason or "扣款未成功" if records and records[0].result == "failed" else None
    return InstalmentNow(inst.period, inst.due_date, inst.payment, bool(inst.paid), success, failure)


def _context(session: Any, notice: OutreachNotice, by_call: bool) -> NoticeContext:
    return NoticeContext(notice.id, notice.kind, notice.customer_id, notice.subject, notice.channel or "",
                         notice.sent_at, json.loads(notice.fields or "{}"), _instalment(session, notice), by_call)


class NoticeContexts:
    """Looks the context up in one short transaction per call (the action server's database)."""

    def __init__(self, store: Store, reply_days: int) -> None:
        self.store = store
        self.reply_days = reply_days

    def for_sender(self, sender_id: str) -> Optional[NoticeContext]:
        notice_id = call_notice_id(sender_id)
        prefix, _, raw = sender_id.partition(":")
        if notice_id is None and (prefix != "wx" or not raw):  # no notice reaches this channel: no query
            return None
        with self.store.session() as session:
            if notice_id is not None:
                notice = session.get(OutreachNotice, notice_id)
                if notice is None or notice.channel != "phone" or notice.status not in LIVE_STATES:
                    return None
                return _context(session, notice, by_call=True)
            notice = self._latest_sent(session, "wechat", (raw,))
            return _context(session, notice, by_call=False) if notice is not None else None

    def for_address(self, channel: str, addresses: tuple[str, ...]) -> Optional[NoticeContext]:
        """The latest notice sent to one of the borrower's verified contact points (an SMS reply: the
        number, written with or without +86)."""
        with self.store.session() as session:
            notice = self._latest_sent(session, channel, addresses)
            return _context(session, notice, by_call=False) if notice is not None else None

    def _latest_sent(self, session: Any, channel: str, addresses: tuple[str, ...]) -> Optional[OutreachNotice]:
        since = self.store.now() - timedelta(days=self.reply_days)
        return session.execute(
            select(OutreachNotice)
            .join(ContactPoint, ContactPoint.id == OutreachNotice.contact_point_id)
            .where(ContactPoint.channel == channel, ContactPoint.address.in_(addresses),
                   ContactPoint.verified.is_(True), OutreachNotice.status == "sent", OutreachNotice.sent_at >= since)
            .order_by(OutreachNotice.sent_at.desc(), OutreachNotice.id.desc())
            .limit(1)).scalar_one_or_none()


    def for_notice(self, sender_id: str, raw_id: Any) -> Optional[NoticeContext]:
        """The notice named by an ``EXTERNAL_outreach_notice`` trigger, only if it went to this very
        conversation: a call keyed by it, or the WeChat OpenID it was sent to."""
        text = str(raw_id or "")
        if not text.isdigit() or len(text) > 12:
            return None
        prefix, _, raw = sender_id.partition(":")
        with self.store.session() as session:
            notice = session.get(OutreachNotice, int(text))
            if notice is None or notice.status not in LIVE_STATES:
                return None
            if prefix in CALL_PREFIXES:
                mine = call_notice_id(sender_id) == notice.id and notice.channel == "phone"
            else:
                point = session.get(ContactPoint, notice.contact_point_id) if notice.contact_point_id else None
                mine = (prefix == "wx" and point is not None and point.channel == "wechat"
                        and point.address == raw and notice.channel == "wechat")
            return _context(session, notice, by_call=prefix in CALL_PREFIXES) if mine else None


def matches_any(patterns: tuple[str, ...], text: str) -> bool:
    return any(re.search(pattern, text or "") for pattern in patterns)


__all__ = ["InstalmentNow", "NoticeContext", "NoticeContexts", "call_notice_id", "matches_any"]
