"""The catalogue's schema, declared once: each section of ``credit/catalogue.yml`` as a model.

The models are what the rest of the code reads (``cat.product("anjia").apr_max``), and
their field types (:mod:`credit.catalogue.fields`) and validators are the whole check of
the file: strict types, no unknown fields, every rate under the legal cap.  Rules that
look at one section live on that section; rules that compare sections (rates against
``legal_cap_apr``, methods and SLA kinds that must be defined, the demo loan) are in
:mod:`credit.catalogue.rules` and run from :class:`Catalogue`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from pydantic import PrivateAttr, StrictInt, root_validator, validator

from credit.catalogue.contact import BEIJING, Hotline  # noqa: F401 - part of the schema
from credit.catalogue.fields import (
    Rate,
    Schema,
    Text,
    UnknownProductError,
    keyed,
)
from credit.catalogue.glossary import Glossary
from credit.catalogue.needs import NeedTexts
from credit.catalogue.other_lenders import OtherLenders
from credit.catalogue.outreach import OutreachRules
from credit.catalogue.products import Product, RepaymentMethod
from credit.catalogue.risk_signals import RiskSignals
from credit.catalogue.rules import cross_section_problems
from credit.catalogue.sections import (
    AccountProcedure,
    DemoLoan,
    Eligibility,
    LimitsInfo,
    OverdueRules,
    PrepaymentInfo,
    RepaymentRules,
    SettlementCertificateProcess,
    Sla,
    Stage,
    SuggestionTexts,
)
from credit.text.product_match import ProductMatcher

#: Stages every catalogue must describe (the application workflow relies on them).
REQUIRED_STAGES = ("reviewing", "pending_signature", "disbursed", "rejected", "cancelled")

#: Ticket kinds every catalogue must give an SLA for.
REQUIRED_SLAS = ("complaint", "negotiation", "settlement_certificate")


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
