"""The products section of ``credit/catalogue.yml``: repayment methods, prepayment rules and each product
(rates under the legal cap, terms, amounts, materials, purposes)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Optional

from pydantic import StrictBool, StrictInt, root_validator, validator

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
    none_is_empty,
    none_is_missing,
)
from credit.text.rate_wording import format_percent

#: Repayment methods the calculators implement (code -> Chinese name).
SUPPORTED_METHODS: Mapping[str, str] = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "先息后本",
}

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
