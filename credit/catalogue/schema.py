"""The catalogue's schema, declared once: each section of ``credit/catalogue.yml`` as a model.

The models are what the rest of the code reads (``cat.product("anjia").apr_max``), and
their field types (:mod:`credit.catalogue.fields`) and validators are the whole check of
the file: strict types, no unknown fields, every rate under the legal cap.  Rules that
look at one section live on that section; rules that compare sections (rates against
``legal_cap_apr``, methods and SLA kinds that must be defined, the demo loan) are in
:mod:`credit.catalogue.rules` and run from :class:`Catalogue`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Optional

from pydantic import PrivateAttr, StrictBool, StrictInt, root_validator, validator

from credit.catalogue.contact import BEIJING, Hotline  # noqa: F401 - part of the schema
from credit.catalogue.fields import (
    Code,
    Items,
    Money,
    OptionalTexts,
    Rate,
    Schema,
    Terms,
    Text,
    Texts,
    UnknownProductError,
    keyed,
    none_is_empty,
    none_is_missing,
)
from credit.catalogue.glossary import Glossary
from credit.catalogue.needs import NeedTexts
from credit.catalogue.other_lenders import OtherLenders
from credit.catalogue.outreach import OutreachRules
from credit.catalogue.risk_signals import RiskSignals
from credit.catalogue.rules import cross_section_problems
from credit.text.product_match import ProductMatcher
from credit.text.rate_wording import format_percent

#: Repayment methods the calculators implement (code -> Chinese name).
SUPPORTED_METHODS: Mapping[str, str] = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "先息后本",
}

#: Stages every catalogue must describe (the application workflow relies on them).
REQUIRED_STAGES = ("reviewing", "pending_signature", "disbursed", "rejected", "cancelled")

#: Ticket kinds every catalogue must give an SLA for.
REQUIRED_SLAS = ("complaint", "negotiation", "settlement_certificate")


class RepaymentMethod(Schema):
    code: str
    name: Text
    description: Text

    @validator("code", pre=True)
    def _implemented(cls, value: Any) -> str:
        if value not in SUPPORTED_METHODS:
            raise ValueError(f"未知还款方式 {value!r}，计算器只支持 {', '.join(SUPPORTED_METHODS)}")
        return str(value)


class PrepaymentRule(Schema):
    """Fee for prepaying principal, as a fraction of the prepaid principal.

    The fee is waived once ``free_after_periods`` instalments have been paid or
    the loan is ``free_after_months`` months old (whichever is configured); a
    ``fee_rate`` of 0 means prepayment is always free.
    """

    fee_rate: Money
    description: Text
    free_after_periods: Optional[StrictInt] = None
    free_after_months: Optional[StrictInt] = None

    _written_means_given = validator("free_after_periods", "free_after_months", pre=True, allow_reuse=True)(
        none_is_missing
    )

    @validator("fee_rate")
    def _fraction(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value < Decimal(1):
            raise ValueError("应在 0 到 1 之间")
        return value

    def fee_rate_for(self, paid_periods: int, loan_age_months: int) -> Decimal:
        """The fee rate that applies after ``paid_periods`` instalments / ``loan_age_months``."""
        if self.fee_rate == 0:
            return Decimal("0")
        if self.free_after_periods is not None and paid_periods >= self.free_after_periods:
            return Decimal("0")
        if self.free_after_months is not None and loan_age_months >= self.free_after_months:
            return Decimal("0")
        return self.fee_rate


class Product(Schema):
    code: Code
    name: Text
    aliases: OptionalTexts = OptionalTexts()
    category: Text
    description: Text
    secured: StrictBool
    revolving: StrictBool
    amount_min: Money
    amount_max: Money
    amount_step: Money
    terms: Terms
    repayment_methods: Items  # codes, checked against the catalogue's methods by Catalogue
    apr_min: Rate
    apr_max: Rate
    prepayment: PrepaymentRule
    disbursement: Text
    eligibility: OptionalTexts = OptionalTexts()
    materials: OptionalTexts = OptionalTexts()
    purposes: OptionalTexts = OptionalTexts()  # codes from the section needs.purposes (credit/catalogue/needs.py)

    _empty_lists = validator("aliases", "eligibility", "materials", "purposes", pre=True,
                             allow_reuse=True)(none_is_empty)

    @root_validator(skip_on_failure=True)
    def _ranges(cls, values: dict[str, Any]) -> dict[str, Any]:
        apr_min, apr_max = values["apr_min"], values["apr_max"]
        if apr_min <= 0:
            raise ValueError("apr_min 必须大于 0")
        if apr_min > apr_max:
            raise ValueError(f"apr_min {format_percent(apr_min)} 大于 apr_max {format_percent(apr_max)}")
        amount_min, amount_max = values["amount_min"], values["amount_max"]
        if amount_min <= 0 or amount_min > amount_max:
            raise ValueError(f"金额区间无效 amount_min={amount_min} amount_max={amount_max}")
        if values["amount_step"] <= 0:
            raise ValueError("amount_step 必须大于 0")
        return values

    @property
    def names(self) -> tuple[str, ...]:
        """The product name followed by its aliases."""
        return (self.name, *self.aliases)

    @property
    def method_names(self) -> tuple[str, ...]:
        """Chinese names of the supported repayment methods, e.g. ``("等额本息", "等额本金")``."""
        return tuple(SUPPORTED_METHODS[m] for m in self.repayment_methods)

    @property
    def example_method(self) -> str:
        """The method a worked example uses: equal instalments where offered (a "每月约还" figure
        means the same every month), else the product's first method."""
        return "equal_installment" if "equal_installment" in self.repayment_methods else self.repayment_methods[0]

    @property
    def term_min(self) -> int:
        return self.terms[0]

    @property
    def term_max(self) -> int:
        return self.terms[-1]

    def supports_term(self, months: int) -> bool:
        return months in self.terms

    def supports_method(self, method: str) -> bool:
        return method in self.repayment_methods

    def amount_in_range(self, amount: Decimal | int | str) -> bool:
        value = Decimal(str(amount))
        return self.amount_min <= value <= self.amount_max

    def rate_in_range(self, annual_rate: Decimal | str) -> bool:
        value = Decimal(str(annual_rate))
        return self.apr_min <= value <= self.apr_max

    def format_terms(self) -> str:
        """``"3/6/9/12/24/36 个月"``."""
        return "/".join(str(t) for t in self.terms) + " 个月"

    def format_amount_range(self) -> str:
        """``"1,000–200,000 元"``."""
        return f"{self.amount_min:,.0f}–{self.amount_max:,.0f} 元"


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
    auto_debit: Text
    channels: Texts
    change_due_day: Text
    holiday_rule: Text
    notes: Text


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


class Catalogue(Schema):
    version: StrictInt
    company: Text
    legal_cap_apr: Rate
    legal_cap_note: Text
    rate_basis_note: Text
    hotline: Hotline
    repayment_methods: tuple[RepaymentMethod, ...]
    products: tuple[Product, ...]
    prepayment: PrepaymentInfo
    stages: tuple[Stage, ...]
    slas: tuple[Sla, ...]
    overdue: OverdueRules
    limits: LimitsInfo
    eligibility: Eligibility
    repayment: RepaymentRules
    settlement_certificate: SettlementCertificateProcess
    account_services: tuple[AccountProcedure, ...]
    other_lenders: OtherLenders
    risk_signals: RiskSignals
    glossary: Glossary
    needs: NeedTexts
    outreach: OutreachRules
    suggestion: SuggestionTexts
    demo_loan: DemoLoan

    _matcher: Optional[ProductMatcher] = PrivateAttr(default=None)

    _by_code = validator("repayment_methods", "products", "stages", "account_services", pre=True,
                         allow_reuse=True)(keyed("code"))
    _by_kind = validator("slas", pre=True, allow_reuse=True)(keyed("kind"))

    @validator("legal_cap_apr")
    def _positive_cap(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("必须大于 0")
        return value

    @validator("products")
    def _some_products(cls, value: tuple[Product, ...]) -> tuple[Product, ...]:
        if not value:
            raise ValueError("至少需要一个产品")
        return value

    @validator("stages")
    def _required_stages(cls, value: tuple[Stage, ...]) -> tuple[Stage, ...]:
        missing = [code for code in REQUIRED_STAGES if code not in {s.code for s in value}]
        if missing:
            raise ValueError(f"缺少必需的申请阶段 {', '.join(missing)}")
        return value

    @validator("slas")
    def _required_slas(cls, value: tuple[Sla, ...]) -> tuple[Sla, ...]:
        missing = [kind for kind in REQUIRED_SLAS if kind not in {s.kind for s in value}]
        if missing:
            raise ValueError(f"缺少必需的工单类型 {', '.join(missing)}")
        return value

    @root_validator(skip_on_failure=True)
    def _cross_section_rules(cls, values: dict[str, Any]) -> dict[str, Any]:
        problems = cross_section_problems(values)
        if problems:
            raise ValueError("；".join(problems))
        return values

    # ------------------------------------------------------------------ look-ups

    @property
    def product_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.products)

    @property
    def product_matcher(self) -> ProductMatcher:
        """The one matcher over every product name, alias and code (built on first use)."""
        if self._matcher is None:
            self._matcher = ProductMatcher.for_products(self.products)
        return self._matcher

    def product(self, code: str) -> Product:
        """The product with this code; :class:`UnknownProductError` (a ``KeyError``) otherwise."""
        for p in self.products:
            if p.code == code:
                return p
        raise UnknownProductError(f"未知产品代码 {code!r}；可用: {', '.join(self.product_codes)}")

    def find_product(self, text: str) -> Product | None:
        """The product whose code, name or alias occurs in ``text`` (longest match wins)."""
        code = self.product_matcher.find(text)
        return self.product(code) if code is not None else None

    def method(self, code: str) -> RepaymentMethod:
        for m in self.repayment_methods:
            if m.code == code:
                return m
        raise KeyError(f"未知还款方式 {code!r}")

    def method_name(self, code: str) -> str:
        """``"equal_installment"`` -> ``"等额本息"``."""
        return self.method(code).name

    def stage(self, code: str) -> Stage:
        for s in self.stages:
            if s.code == code:
                return s
        raise KeyError(f"未知申请阶段 {code!r}")

    def find_stage(self, name_or_code: str) -> Stage | None:
        """A stage by code or Chinese name (``"审批中"``)."""
        for s in self.stages:
            if name_or_code in (s.code, s.name):
                return s
        return None

    def sla(self, kind: str) -> Sla:
        for s in self.slas:
            if s.kind == kind:
                return s
        raise KeyError(f"未知工单类型 {kind!r}；可用: {', '.join(s.kind for s in self.slas)}")

    def sla_hours(self, kind: str) -> int:
        return self.sla(kind).reply_hours

    def account_service(self, code: str) -> AccountProcedure:
        for a in self.account_services:
            if a.code == code:
                return a
        raise KeyError(f"未知账户服务 {code!r}")
