"""The service sections of ``credit/catalogue.yml``: application stages, SLAs, overdue rules, prepayment,
limits, eligibility, repayment, the settlement certificate, account procedures, the demo loan and the
suggestion texts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from pydantic import StrictBool, StrictInt, root_validator, validator

from credit.catalogue.contact import BEIJING, Hotline  # noqa: F401 - part of the schema
from credit.catalogue.fields import (
    Code,
    Money,
    Rate,
    Schema,
    Text,
    Texts,
    none_is_missing,
)


class Stage(Schema):
    """An application stage with plain-language guidance."""

    code: Code
    name: Text
    plain: Text
    next_step: Text
    expected_time: Text
    cancellable: StrictBool
    final: StrictBool


class Sla(Schema):
    """Service level for one ticket kind: first reply within ``reply_hours``."""

    kind: Code
    name: Text
    reply_hours: StrictInt
    note: Text
    resolve_days: Optional[StrictInt] = None

    _written_means_given = validator("resolve_days", pre=True, allow_reuse=True)(none_is_missing)

    @validator("reply_hours")
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("必须大于 0")
        return value


class OverdueRules(Schema):
    grace_days: StrictInt
    penalty_multiplier: Money
    penalty_apr_max: Rate
    credit_report_after_days: StrictInt
    rules: Texts
    advice: Text
    collection_rules: Texts

    @validator("penalty_multiplier")
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("必须大于 0")
        return value

    @root_validator(skip_on_failure=True)
    def _not_negative(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["grace_days"] < 0 or values["credit_report_after_days"] < 0:
            raise ValueError("grace_days 和 credit_report_after_days 不能为负数")
        return values

    def penalty_apr(self, contract_apr: Decimal | str) -> Decimal:
        """Annualised penalty rate on overdue principal: contract APR x multiplier, capped."""
        return min(Decimal(str(contract_apr)) * self.penalty_multiplier, self.penalty_apr_max)

    def in_grace(self, days_overdue: int) -> bool:
        return days_overdue <= self.grace_days

    def reported(self, days_overdue: int) -> bool:
        """Whether an arrear this many days old is reported to the credit reference centre."""
        return days_overdue > self.credit_report_after_days


class PrepaymentInfo(Schema):
    interest_rule: Text
    partial_rule: Text
    how_to: Texts
    note: Text


class LimitsInfo(Schema):
    assessed_by: Text
    how_to_check: Text
    validity_months: StrictInt
    revolving_note: Text
    increase: Text
    decrease: Text
    frozen: Text


class Eligibility(Schema):
    conditions: Texts
    materials: Texts
    notes: Text


class RepaymentRules(Schema):
    due_day_rule: Text
    #: the latest day of the month a repayment falls on (a loan paid out on the 29th-31st is due on this day)
    last_due_day: StrictInt
    auto_debit: Text
    channels: Texts
    change_due_day: Text
    holiday_rule: Text
    notes: Text

    @root_validator(skip_on_failure=True)
    def _last_due_day_in_rule(cls, values: dict[str, Any]) -> dict[str, Any]:
        day = values.get("last_due_day")
        if not (isinstance(day, int) and 1 <= day <= 28 and f"{day} 日" in (values.get("due_day_rule") or "")):
            raise ValueError(f"last_due_day {day!r} 应在 1–28 之间，并与 due_day_rule 中写明的日期一致")
        return values


class SettlementCertificateProcess(Schema):
    conditions: Texts
    steps: Texts
    delivery: Text
    fee: Text
    sla_kind: Text


class AccountProcedure(Schema):
    code: Code
    name: Text
    requirements: Texts
    steps: Texts
    sla_kind: Text


class DemoLoan(Schema):
    """The loan context used by the demo data (seed): product, fixed rate and method."""

    product: Text
    annual_rate: Rate
    rate_type: Text
    method: Text



class SuggestionTexts(Schema):
    """Replies to a customer's suggestion (intent give_suggestion): thanks, never an apology."""

    thanks: Text
    thanks_restated: Text
    thanks_voice: Text
