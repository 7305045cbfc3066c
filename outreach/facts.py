"""Which notices are due at a moment, read from the business database and the catalogue's rules.

Each fact yields a :class:`Planned` notice with a key that names what it is about exactly once
(``due_t1:SQ202611180002:p1``), so planning the same moment twice, or on two servers, plans nothing
new (the key is unique in ``outreach_notices``).  Days are Beijing days; a notice becomes due at
the opening of the contact hours of its day (or at the event, for events), and is not announced
when its fact is older than the rule's ``max_age_hours``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Dict, Iterator, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.catalogue.loader import Catalogue
from credit.catalogue.outreach import NoticeRule
from credit.db.loans import Application, Loan, LoanInstallment
from credit.db.outreach import RepaymentRecord
from credit.db.tickets import Ticket, TicketOutcome
from credit.policy import CHINA_TZ


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str
    customer_id: int
    subject: str  # application or ticket number
    due_at: datetime
    mandatory: bool
    period: Optional[int] = None
    fields: Dict[str, str] = field(default_factory=dict)  # template fields (rendered at delivery)


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def opening(day: date, opens: time) -> datetime:
    return datetime.combine(day, opens, tzinfo=CHINA_TZ)


def _fresh(rule: NoticeRule, due_at: datetime, now: datetime) -> bool:
    return due_at <= now and now - due_at <= timedelta(hours=rule.max_age_hours)


def _yuan(amount: object) -> str:
    return f"{amount:,.2f}"


def _due_fields(inst: LoanInstallment) -> Dict[str, str]:
    """Template fields about an instalment (``amount_number`` and ``due_full`` are for WeChat's typed fields)."""
    return {"period": str(inst.period), "amount": _yuan(inst.payment), "amount_number": f"{inst.payment:.2f}",
            "due": f"{inst.due_date.month}月{inst.due_date.day}日",
            "due_full": f"{inst.due_date.year}年{inst.due_date.month}月{inst.due_date.day}日"}


def _loan_fields(cat: Catalogue, app: Application) -> Dict[str, str]:
    product = cat.find_product(app.product)
    return {"company": cat.company, "loan_tail": app.application_id[-4:], "hotline": cat.hotline.number,
            "product": product.name if product else app.product}


def plan(session: Session, cat: Catalogue, now: datetime) -> List[Planned]:
    """Every notice due by ``now`` under the catalogue's rules (whether or not already sent)."""
    out: List[Planned] = []
    rules = cat.outreach
    for rule in rules.notices:
        out.extend(_FACTS[rule.fact](session, cat, rule, now))
    return out


def _installments(session: Session) -> Iterator[tuple[LoanInstallment, Loan, Application]]:
    rows = session.execute(
        select(LoanInstallment, Loan, Application)
        .join(Loan, Loan.id == LoanInstallment.loan_id)
        .join(Application, Application.application_id == Loan.application_id)
        .where(LoanInstallment.paid.is_(False), Loan.status == "active")
    ).all()
    yield from rows


def _installment_due(session: Session, cat: Catalogue, rule: NoticeRule, now: datetime) -> List[Planned]:
    out = []
    for inst, _loan, app in _installments(session):
        day = inst.due_date - timedelta(days=rule.days or 0)
        due_at = opening(day, cat.outreach.opens)
        if _fresh(rule, due_at, now) and beijing_day(now) < inst.due_date:  # "明天" must still be true
            fields = {**_loan_fields(cat, app), **_due_fields(inst), "days": str(rule.days or 0)}
            out.append(Planned(f"{rule.kind}:{app.application_id}:p{inst.period}", rule.kind, app.customer_id,
                               app.application_id, due_at, rule.mandatory, inst.period, fields))
    return out


def _installment_overdue(session: Session, cat: Catalogue, rule: NoticeRule, now: datetime) -> List[Planned]:
    out = []
    for inst, _loan, app in _installments(session):
        due_at = opening(inst.due_date + timedelta(days=rule.days or 0), cat.outreach.opens)
        if _fresh(rule, due_at, now):
            fields = {**_loan_fields(cat, app), **_due_fields(inst), "days": str(rule.days or 0)}
            out.append(Planned(f"{rule.kind}:{app.application_id}:p{inst.period}", rule.kind, app.customer_id,
                               app.application_id, due_at, rule.mandatory, inst.period, fields))
    return out


def _deduction_failed(session: Session, cat: Catalogue, rule: NoticeRule, now: datetime) -> List[Planned]:
    rows = session.execute(
        select(RepaymentRecord, LoanInstallment, Application)
        .join(Loan, Loan.id == RepaymentRecord.loan_id)
        .join(Application, Application.application_id == Loan.application_id)
        .join(LoanInstallment,
              (LoanInstallment.loan_id == Loan.id) & (LoanInstallment.period == RepaymentRecord.period))
        .where(RepaymentRecord.result == "failed", RepaymentRecord.kind == "auto_debit",
               LoanInstallment.paid.is_(False))
    ).all()
    out = []
    for record, inst, app in rows:
        if _fresh(rule, record.at, now):
            fields = {**_loan_fields(cat, app), **_due_fields(inst), "days": "0"}
            out.append(Planned(f"{rule.kind}:{app.application_id}:r{record.id}", rule.kind, app.customer_id,
                               app.application_id, record.at, rule.mandatory, inst.period, fields))
    return out


def _application_stage(session: Session, cat: Catalogue, rule: NoticeRule, now: datetime) -> List[Planned]:
    apps = session.execute(select(Application).where(Application.stage == rule.stage)).scalars()
    return [Planned(f"{rule.kind}:{app.application_id}", rule.kind, app.customer_id, app.application_id,
                    app.stage_updated_at, rule.mandatory, None, _loan_fields(cat, app))
            for app in apps if _fresh(rule, app.stage_updated_at, now)]


def _ticket_due(session: Session, cat: Catalogue, rule: NoticeRule, now: datetime) -> List[Planned]:
    rows = session.execute(
        select(Ticket, Application)
        .join(Application, Application.application_id == Ticket.application_id)
        .where(Ticket.status == "open", Ticket.kind != "suggestion")
    ).all()
    out = []
    for ticket, app in rows:
        due_at = ticket.due_at - timedelta(hours=rule.hours or 0)
        if _fresh(rule, due_at, now) and now < ticket.due_at:
            fields = {**_loan_fields(cat, app), "ticket": ticket.number}
            out.append(Planned(f"{rule.kind}:{ticket.number}", rule.kind, app.customer_id, ticket.number, due_at,
                               rule.mandatory, None, fields))
    return out


def _ticket_closed(session: Session, cat: Catalogue, rule: NoticeRule, now: datetime) -> List[Planned]:
    """A ticket closed (not a suggestion: nothing to be satisfied with) and not yet rated: due at the close,
    once per ticket.  A rating given meanwhile in the conversation makes the question moot (suppressed)."""
    rows = session.execute(
        select(Ticket, TicketOutcome, Application)
        .join(TicketOutcome, TicketOutcome.ticket_id == Ticket.id)
        .join(Application, Application.application_id == Ticket.application_id)
        .where(Ticket.status == "closed", Ticket.kind != "suggestion", TicketOutcome.answered_at.is_(None))
    ).all()
    return [Planned(f"{rule.kind}:{ticket.number}", rule.kind, app.customer_id, ticket.number, outcome.closed_at,
                    rule.mandatory, None, {**_loan_fields(cat, app), "ticket": ticket.number})
            for ticket, outcome, app in rows if _fresh(rule, outcome.closed_at, now)]


_FACTS = {
    "installment_due": _installment_due,
    "installment_overdue": _installment_overdue,
    "deduction_failed": _deduction_failed,
    "application_stage": _application_stage,
    "ticket_due": _ticket_due,
    "ticket_closed": _ticket_closed,
}

__all__ = ["Planned", "plan", "beijing_day", "opening"]
