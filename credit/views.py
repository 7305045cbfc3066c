"""What the service returns: immutable views, never database rows.

A view is built inside the transaction and carries only plain values, so callers
(actions, :mod:`credit.answers.texts`) can use it after the session is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

VerifyStatus = Literal["ok", "failed", "locked"]
OtpCheck = Literal["ok", "wrong", "expired", "locked"]


@dataclass(frozen=True)
class VerifyResult:
    status: VerifyStatus
    attempts_left: int | None  # None when ok, 0 when locked
    locked_until: datetime | None = None


@dataclass(frozen=True)
class TicketLookup:
    """A ticket asked for by number from another conversation: shown only after the check digits."""

    result: VerifyResult
    ticket: "TicketView | None"  # None unless result.status == "ok"


@dataclass(frozen=True)
class ProgressView:
    application_id: str
    stage: str
    stage_label: str  # 审批中
    description: str  # plain-language explanation of the stage
    next_step: str
    expected: str  # plain-Chinese expected time
    expected_done_at: datetime | None
    product: str
    product_name: str
    amount: Decimal
    term: int
    submitted_at: datetime
    stage_updated_at: datetime


@dataclass(frozen=True)
class OtpSent:
    masked_phone: str
    expires_at: datetime
    sends_left: int  # further sends allowed in the current 10-minute window


@dataclass(frozen=True)
class InstallmentView:
    period: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    remaining: Decimal
    paid: bool


@dataclass(frozen=True)
class LoanView:
    application_id: str
    product: str
    product_name: str
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    method: str
    method_label: str
    status: str
    disbursed_at: datetime
    paid_periods: int
    outstanding_principal: Decimal
    next_due_date: date | None
    next_due_amount: Decimal | None
    remaining_schedule: tuple[InstallmentView, ...]


@dataclass(frozen=True)
class TicketView:
    number: str
    kind: str
    category: str | None
    status: str
    sla_hours: int
    due_at: datetime
    created_at: datetime
    application_id: str | None
    detail: str  # masked
    contact: str | None  # masked


@dataclass(frozen=True)
class HandoffView:
    id: int
    channel: str
    queue: str
    created_at: datetime


@dataclass(frozen=True)
class RiskEventView:
    id: int
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class CancelResult:
    application_id: str
    status: Literal["cancelled", "already_cancelled", "not_cancellable"]
    stage: str
    message: str
    suggestion: str | None = None


@dataclass(frozen=True)
class SettlementResult:
    application_id: str
    status: Literal["created", "already_requested", "outstanding", "not_disbursed"]
    message: str
    ticket: TicketView | None = None
    outstanding_principal: Decimal | None = None
    remaining_periods: int | None = None
