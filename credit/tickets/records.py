"""Tickets, handoffs to a human queue, and the risk-event log.

Tickets get a number ``TK`` + China date + four random digits and a first-reply SLA
from the catalogue; every free text (detail, contact, summary, risk text) is stored
masked.  A sender sees only their own tickets.  An operator closes a ticket
(:func:`close_ticket`, ``python -m ops tickets close``); the outreach engine then asks the
customer whether the problem was solved (notice ``ticket_followup``) and the answer is kept with
:func:`record_satisfaction` (:mod:`credit.tickets.outcomes`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credit.catalogue.loader import load_catalogue
from credit.catalogue.lookups import sla_hours_for
from credit.db.base import TICKET_KINDS
from credit.db.loans import Application, Customer
from credit.db.tickets import (
    MAX_COMMENT_CHARS,
    MAX_RESOLUTION_CHARS,
    Handoff,
    RiskEvent,
    Ticket,
    TicketContact,
    TicketOutcome,
)
from credit.errors import InvalidInput, NotFound, ServiceUnavailable
from credit.policy import CHINA_TZ
from credit.store import Store
from credit.text import inputs
from credit.text.masking import mask_pii
from credit.text.numbers import extract_phone_number
from credit.tickets.outcomes import SCORES, TicketOutcomeView
from credit.views import HandoffView, RiskEventView, TicketView


def new_ticket(
    session: Session,
    now: datetime,
    sender: str,
    kind: str,
    detail: str,
    contact: str | None,
    category: str | None,
    application_id: str | None,
    sla_start: datetime | None = None,
) -> Ticket:
    """Insert a ticket with a fresh number (inputs already cleaned and masked); its deadline runs from
    ``sla_start`` (a call-back asked for at night: from the agents' next opening) or ``now``."""
    hours = sla_hours_for(kind)
    prefix = f"TK{now.astimezone(CHINA_TZ):%Y%m%d}"
    for _ in range(50):
        number = f"{prefix}{secrets.randbelow(10_000):04d}"
        taken = session.execute(select(Ticket.id).where(Ticket.number == number)).first()
        if taken is not None:
            continue
        ticket = Ticket(
            number=number,
            kind=kind,
            category=category,
            detail=detail,
            contact=contact,
            sender_id=sender,
            application_id=application_id,
            status="open",
            sla_hours=hours,
            due_at=(sla_start or now) + timedelta(hours=hours),
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
        except IntegrityError:  # same number inserted concurrently
            continue
        return ticket
    raise ServiceUnavailable("暂时无法生成工单号，请稍后再试")


def ticket_view(t: Ticket) -> TicketView:
    return TicketView(
        number=t.number,
        kind=t.kind,
        category=t.category,
        status=t.status,
        sla_hours=t.sla_hours,
        due_at=t.due_at,
        created_at=t.created_at,
        application_id=t.application_id,
        detail=t.detail,
        contact=t.contact,
    )


def add_risk_event(session: Session, now: datetime, sender: str, kind: str, text: str) -> RiskEvent:
    """Log a risk signal in the caller's transaction (text stored masked)."""
    event = RiskEvent(sender_id=sender, kind=kind, text=inputs.free_text(text, "内容"), created_at=now)
    session.add(event)
    return event


class Tickets:
    """Tickets, handoffs and risk events for the conversation's sender."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create_ticket(
        self,
        sender_id: Any,
        kind: Any,
        detail: Any,
        contact: Any = None,
        category: Any = None,
        application_id: Any = None,
    ) -> TicketView:
        """Open a ticket; detail and contact are stored masked, SLA from the catalogue."""
        sender = inputs.sender(sender_id)
        if kind not in TICKET_KINDS:
            raise InvalidInput(f"未知的工单类型：{str(kind)[:40]}")
        app_id = inputs.APPLICATION_ID.require(application_id) if application_id is not None else None
        cat = inputs.code(category, "问题分类") if category is not None else None
        masked_detail = inputs.free_text(detail, "问题描述")
        masked_contact = inputs.free_text(contact, "联系方式")[:200] or None
        call_back_on = extract_phone_number(contact) if isinstance(contact, str) else None
        now = self.store.now()
        # a call-back is made by people: its deadline runs from when they are at work
        start = load_catalogue().hotline.next_open(now) if kind == "callback" else None
        with self.store.session() as session:
            ticket = new_ticket(session, now, sender, kind, masked_detail, masked_contact, cat, app_id, start)
            if call_back_on:  # the number in full, kept apart from the masked ticket (TicketContact)
                session.add(TicketContact(ticket_id=ticket.id, phone=call_back_on, created_at=self.store.now()))
            return ticket_view(ticket)

    def callbacks(self) -> list[tuple[TicketView, str]]:
        """Open tickets with a number to call back on (the caller team's list), nearest deadline first."""
        with self.store.session() as session:
            given = session.execute(
                select(Ticket, TicketContact.phone)
                .join(TicketContact, TicketContact.ticket_id == Ticket.id)
                .where(Ticket.status == "open")
            ).all()
            registered = session.execute(  # "打到您申请时预留的手机号": the verified application's phone
                select(Ticket, Customer.phone)
                .join(Application, Application.application_id == Ticket.application_id)
                .join(Customer, Customer.id == Application.customer_id)
                .where(Ticket.status == "open", Ticket.contact == "registered")
            ).all()
            rows = sorted([*given, *registered], key=lambda row: (row[0].due_at, row[0].id))
            return [(ticket_view(ticket), phone) for ticket, phone in rows]

    def list_tickets(self, sender_id: Any) -> list[TicketView]:
        """The sender's own tickets, newest first."""
        sender = inputs.sender(sender_id)
        with self.store.session() as session:
            rows = session.execute(
                select(Ticket)
                .where(Ticket.sender_id == sender)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            ).scalars()
            return [ticket_view(t) for t in rows]

    def ticket_status(self, sender_id: Any, number: Any) -> TicketView | None:
        """One of the sender's own tickets by number; None if absent or someone else's."""
        sender = inputs.sender(sender_id)
        normalised = inputs.TICKET_NUMBER.require(number)
        with self.store.session() as session:
            ticket = session.execute(
                select(Ticket).where(Ticket.number == normalised, Ticket.sender_id == sender)
            ).scalar_one_or_none()
            return ticket_view(ticket) if ticket is not None else None

    def record_handoff(self, sender_id: Any, channel: Any, queue: Any, summary: Any) -> HandoffView:
        """Log a transfer to a human queue (summary stored masked)."""
        sender = inputs.sender(sender_id)
        chan = inputs.code(channel, "渠道")
        q = inputs.code(queue, "队列")
        text = inputs.free_text(summary, "摘要")
        with self.store.session() as session:
            row = Handoff(sender_id=sender, channel=chan, queue=q, summary=text, created_at=self.store.now())
            session.add(row)
            session.flush()
            return HandoffView(id=row.id, channel=chan, queue=q, created_at=row.created_at)

    def record_risk_event(self, sender_id: Any, kind: Any, text: Any) -> RiskEventView:
        """Log a risk signal (urgent_need, fraud_report, …); text stored masked."""
        sender = inputs.sender(sender_id)
        code = inputs.code(kind, "风险类型")
        with self.store.session() as session:
            event = add_risk_event(session, self.store.now(), sender, code, text if isinstance(text, str) else "")
            session.flush()
            return RiskEventView(id=event.id, kind=code, created_at=event.created_at)


# ----------------------------------------------------------------- closing and the follow-up's answer

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCORE_REPLY = re.compile(r"(?:打|给|评)?([1-5一二三四五])(?:分|星)?")
_VERDICT_REPLY = re.compile(r"(?:非常|很|挺|比较|还算|不太|很不|非常不|不)?满意")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def _one_line(value: Any, what: str, limit: int) -> str:
    """Operator or customer text: control characters dropped, trimmed, refused when empty or over ``limit``
    (a silent cut would change what the operator wrote), personal data masked."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what}无效")
    text = _CONTROL.sub(" ", value[: limit * 4]).strip()
    if not text:
        raise InvalidInput(f"请填写{what}")
    if len(text) > limit:
        raise InvalidInput(f"{what}最多{limit}字（现在{len(text)}字）")
    return mask_pii(text)


def _outcome_view(ticket: Ticket, outcome: TicketOutcome) -> TicketOutcomeView:
    return TicketOutcomeView(ticket.number, ticket.kind, outcome.closed_at, outcome.closed_by, outcome.resolution,
                             outcome.satisfaction, outcome.satisfaction_comment, outcome.answered_at)


def close_ticket(engine: Engine, ticket_number: Any, resolution: Any, by: Any, now: datetime) -> TicketOutcomeView:
    """Close an open ticket with a short resolution.  The close is a compare-and-set on the status, so two
    operators closing the same ticket at once cannot both succeed; the follow-up is planned from the outcome
    row by the outreach engine (fact ``ticket_closed``), not here, so closing never waits on a channel."""
    number = inputs.TICKET_NUMBER.require(ticket_number)
    text = _one_line(resolution, "办结说明", MAX_RESOLUTION_CHARS)
    operator = _one_line(by, "操作人", 64)
    with Store(engine).session() as session:
        ticket = session.execute(select(Ticket).where(Ticket.number == number)).scalar_one_or_none()
        if ticket is None:
            raise NotFound(f"没有工单 {number}")
        closed = session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.status == "open")
                                 .values(status="closed")).rowcount
        if closed != 1:
            raise InvalidInput(f"工单 {number} 已经办结，不能重复办结")
        outcome = TicketOutcome(ticket_id=ticket.id, closed_at=now, closed_by=operator, resolution=text)
        session.add(outcome)
        session.flush()
        return _outcome_view(ticket, outcome)


def record_satisfaction(engine: Engine, ticket_number: Any, score: int | None, comment: str,
                        now: datetime) -> TicketOutcomeView:
    """The customer's answer to the follow-up: a score 1-5 and/or a comment ("满意"/"不满意"), on a closed
    ticket.  Answering again replaces the answer (the latest wins); an answer older than the one kept (a
    late-delivered message) changes nothing.  The dialogue calls this once it knows which ticket is meant."""
    number = inputs.TICKET_NUMBER.require(ticket_number)
    if score is not None and (isinstance(score, bool) or not isinstance(score, int) or score not in SCORES):
        raise InvalidInput("评分应为1到5分")
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput("评价无效")
    remark = mask_pii(_CONTROL.sub(" ", (comment or "")[: MAX_COMMENT_CHARS * 4]).strip())[:MAX_COMMENT_CHARS]
    if score is None and not remark:
        raise InvalidInput("请给出1到5分的评分，或告诉我们满意还是不满意")
    with Store(engine).session() as session:
        row = session.execute(select(Ticket, TicketOutcome).join(TicketOutcome, TicketOutcome.ticket_id == Ticket.id,
                                                                 isouter=True)
                              .where(Ticket.number == number)).first()
        if row is None:
            raise NotFound(f"没有工单 {number}")
        ticket, outcome = row
        if outcome is None:  # open, or closed before outcomes were recorded
            raise InvalidInput(f"工单 {number} 还在处理中，办结后才能评价" if ticket.status == "open"
                               else f"工单 {number} 没有办结记录，无法评价")
        outcome = session.execute(select(TicketOutcome).where(TicketOutcome.id == outcome.id).with_for_update()
                                  .execution_options(populate_existing=True)).scalar_one()
        if outcome.answered_at is None or now >= outcome.answered_at:
            outcome.satisfaction, outcome.satisfaction_comment, outcome.answered_at = score, remark or None, now
        return _outcome_view(ticket, outcome)


def satisfaction_from_reply(text: Any) -> tuple[int | None, str] | None:
    """A follow-up reply read as (score, comment): "4分"/"４"/"五星" → (4|5, text), "满意"/"不太满意" → (None, text);
    None when the message is not such an answer (then it is an ordinary message for the dialogue)."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    plain = re.sub(r"[\s，。！!,.~～]+", "", unicodedata.normalize("NFKC", text))
    score = _SCORE_REPLY.fullmatch(plain)
    if score:
        digit = score.group(1)
        return (_CN_DIGITS.get(digit) or int(digit)), plain
    return (None, plain) if _VERDICT_REPLY.fullmatch(plain) else None
