"""Applications and loans: booking with its date maths, progress, details, cancel, settlement.

Reading an application needs a verification of the sender (:class:`credit.verification.Verifier`):
``basic`` for its progress, ``strong`` for the loan's money and for changing anything.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.calculators import build_schedule
from credit.catalogue.lookups import method_label, product_name, stage_info
from credit.db.base import as_utc
from credit.db.loans import Application, Loan, LoanInstallment
from credit.db.tickets import Ticket
from credit.errors import InvalidInput, NotFound
from credit.policy import CANCELLABLE_STAGES, CHINA_TZ
from credit.store import Store
from credit.text import inputs
from credit.tickets.records import new_ticket, ticket_view
from credit.verification import Verifier
from credit.views import CancelResult, InstallmentView, LoanView, ProgressView, SettlementResult

# ------------------------------------------------------------------ date maths


def add_months(start: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_date(disbursed_on: date, period: int) -> date:
    """Due date of instalment ``period`` (catalogue ``repayment.due_day_rule``): the
    disbursement day of each following month, the 28th when disbursed on the 29th–31st."""
    return add_months(disbursed_on.replace(day=min(disbursed_on.day, 28)), period)


def china_date(moment: datetime) -> date:
    return as_utc(moment).astimezone(CHINA_TZ).date()


# --------------------------------------------------------------------- booking


def book_loan(
    session: Session,
    application: Application,
    *,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    disbursed_at: datetime,
    paid_periods: int = 0,
) -> Loan:
    """Create a loan and its schedule (``credit.calculators.build_schedule``).

    Instalment ``i`` falls due ``i`` months after the disbursement date (China time,
    see :func:`due_date`);
    the first ``paid_periods`` are marked paid on their due dates.
    """
    schedule = build_schedule(Decimal(principal), Decimal(annual_rate), term_months, method)
    if not 0 <= paid_periods <= term_months:
        raise InvalidInput("已还期数超出范围")
    loan = Loan(
        application_id=application.application_id,
        principal=Decimal(principal),
        annual_rate=Decimal(annual_rate),
        term_months=term_months,
        method=method,
        disbursed_at=disbursed_at,
        paid_periods=paid_periods,
        outstanding_principal=Decimal(principal),
        status="active",
    )
    start = china_date(disbursed_at)
    for index, item in enumerate(schedule.installments, start=1):
        due = due_date(start, index)
        paid = index <= paid_periods
        loan.installments.append(
            LoanInstallment(
                period=index,
                due_date=due,
                payment=item.payment,
                principal=item.principal,
                interest=item.interest,
                remaining=item.remaining,
                paid=paid,
                paid_at=datetime(due.year, due.month, due.day, 2, tzinfo=timezone.utc) if paid else None,
            )
        )
        if paid:
            loan.outstanding_principal = Decimal(item.remaining)
    if paid_periods == term_months:
        loan.outstanding_principal = Decimal("0")
        loan.status = "settled"
    session.add(loan)
    return loan


# ------------------------------------------------------------------ operations


def _current_stage(app: Application) -> str:
    return f"该申请当前状态为“{stage_info(app.stage).label}”"


class Loans:
    """What a verified sender may see and do with their application and loan."""

    def __init__(self, store: Store, verifier: Verifier) -> None:
        self.store = store
        self.verifier = verifier

    def get_progress(self, sender_id: Any, application_id: Any) -> ProgressView:
        """Stage and next step of the application (basic verification required)."""
        sender = inputs.sender(sender_id)
        with self.store.session() as session:
            app = self.verifier.require(session, sender, application_id, "basic")
            info = stage_info(app.stage)
            next_step = app.expected_next_step or info.next_step
            expected = info.expected
            label, description = info.label, info.description
            loan = app.loan
            if app.stage == "disbursed" and loan is not None and loan.status == "settled" \
                    and loan.outstanding_principal <= 0:
                # all paid: the application's stage is still 已放款, but what the customer asks about is the loan
                label = "已结清"
                description = "这笔借款已经全部还清（已结清），不会再扣款。"
                next_step = "需要结清证明的话，可以在APP「我的借款」里申请，或直接告诉我帮您办理。"
            if app.expected_done_at is not None and app.stage in CANCELLABLE_STAGES:
                local = app.expected_done_at.astimezone(CHINA_TZ)
                # the rule the customer can hold us to, and the time it gives for this application
                expected = f"{info.expected}（预计{local.month}月{local.day}日{local:%H:%M}前）"
            return ProgressView(
                application_id=app.application_id,
                stage=app.stage,
                stage_label=label,
                description=description,
                next_step=next_step,
                expected=expected,
                expected_done_at=app.expected_done_at,
                product=app.product,
                product_name=product_name(app.product),
                amount=app.amount,
                term=app.term,
                submitted_at=app.submitted_at,
                stage_updated_at=app.stage_updated_at,
            )

    def get_loan_details(self, sender_id: Any, application_id: Any) -> LoanView:
        """Loan terms, balance and remaining schedule (strong verification required)."""
        sender = inputs.sender(sender_id)
        with self.store.session() as session:
            app = self.verifier.require(session, sender, application_id, "strong")
            loan = app.loan
            if loan is None:
                raise NotFound(f"{_current_stage(app)}，尚未放款，暂无贷款信息")
            remaining = tuple(
                InstallmentView(
                    period=i.period,
                    due_date=i.due_date,
                    payment=i.payment,
                    principal=i.principal,
                    interest=i.interest,
                    remaining=i.remaining,
                    paid=i.paid,
                )
                for i in loan.installments
                if not i.paid
            )
            return LoanView(
                application_id=app.application_id,
                product=app.product,
                product_name=product_name(app.product),
                principal=loan.principal,
                annual_rate=loan.annual_rate,
                term_months=loan.term_months,
                method=loan.method,
                method_label=method_label(loan.method),
                status=loan.status,
                disbursed_at=loan.disbursed_at,
                paid_periods=loan.paid_periods,
                outstanding_principal=loan.outstanding_principal,
                next_due_date=remaining[0].due_date if remaining else None,
                next_due_amount=remaining[0].payment if remaining else None,
                remaining_schedule=remaining,
            )

    def request_cancel(self, sender_id: Any, application_id: Any) -> CancelResult:
        """Cancel an application still reviewing or awaiting signature (strong required)."""
        sender = inputs.sender(sender_id)
        with self.store.session() as session:
            app = self.verifier.require(session, sender, application_id, "strong")
            if app.stage in CANCELLABLE_STAGES:
                now = self.store.now()
                app.stage = "cancelled"
                app.stage_updated_at = now
                app.expected_next_step = None
                app.expected_done_at = None
                return CancelResult(app.application_id, "cancelled", app.stage, "申请已取消，不会产生任何费用。")
            if app.stage == "cancelled":
                return CancelResult(app.application_id, "already_cancelled", app.stage, "该申请此前已取消。")
            if app.stage == "disbursed":
                return CancelResult(
                    app.application_id,
                    "not_cancellable",
                    app.stage,
                    "该笔借款已放款，无法取消申请。",
                    "如不再需要这笔资金，可以办理提前还款，结清后不再产生后续利息。",
                )
            return CancelResult(app.application_id, "not_cancellable", app.stage, f"{_current_stage(app)}，无需取消。")

    def request_settlement_certificate(self, sender_id: Any, application_id: Any) -> SettlementResult:
        """Open a settlement-certificate ticket when the loan is fully repaid (strong required)."""
        sender = inputs.sender(sender_id)
        with self.store.session() as session:
            app = self.verifier.require(session, sender, application_id, "strong")
            loan = app.loan
            if loan is None:
                return SettlementResult(
                    app.application_id, "not_disbursed", f"{_current_stage(app)}，没有贷款记录，无法开具结清证明。"
                )
            if loan.status != "settled" or loan.outstanding_principal > 0:
                periods = loan.term_months - loan.paid_periods
                return SettlementResult(
                    app.application_id,
                    "outstanding",
                    f"该笔贷款尚有未还本金¥{loan.outstanding_principal:,.2f}，剩余{periods}期，"
                    "全部结清后才能开具结清证明；也可以先申请提前还款。",
                    outstanding_principal=loan.outstanding_principal,
                    remaining_periods=periods,
                )
            existing = session.execute(
                select(Ticket).where(
                    Ticket.application_id == app.application_id,
                    Ticket.kind == "settlement_certificate",
                    Ticket.status == "open",
                )
            ).scalars().first()
            if existing is not None:
                view = ticket_view(existing)
                return SettlementResult(
                    app.application_id,
                    "already_requested",
                    f"结清证明已在办理中，工单号{view.number}。",
                    ticket=view,
                    outstanding_principal=Decimal("0.00"),
                    remaining_periods=0,
                )
            ticket = new_ticket(
                session, self.store.now(), sender, "settlement_certificate", "申请开具结清证明", None, None,
                app.application_id,
            )
            view = ticket_view(ticket)
            return SettlementResult(
                app.application_id,
                "created",
                f"已为您提交结清证明申请，工单号{view.number}，预计{view.sla_hours}小时内处理。",
                ticket=view,
                outstanding_principal=Decimal("0.00"),
                remaining_periods=0,
            )
