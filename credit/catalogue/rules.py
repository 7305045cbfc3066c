"""Catalogue rules that compare sections: rates under the legal cap, names unique, references defined.

Called by :class:`credit.catalogue.schema.Catalogue` once every section has passed its own
checks; each rule returns messages that start with the YAML path they are about.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from credit.text.rate_wording import format_apr_range, format_percent


def cross_section_problems(values: dict[str, Any]) -> list[str]:
    """Every broken cross-section rule in the validated sections ``values`` (empty when none)."""
    return [*_product_rules(values), *_sla_references(values), *_demo_loan_rules(values),
            *_other_lender_rules(values), *_purpose_references(values)]


def _purpose_references(values: dict[str, Any]) -> list[str]:
    codes = {p.code for p in values["needs"].purposes}
    return [f"products.{product.code}.purposes: 未定义的用途 {code!r}；已定义: {', '.join(sorted(codes))}"
            for product in values["products"] for code in product.purposes if code not in codes]


def _other_lender_rules(values: dict[str, Any]) -> list[str]:
    ours = {name.lower(): p.code for p in values["products"] for name in (*p.names, p.code)}
    return [f"other_lenders.names.{lender.name}: {alias!r} 是我们的产品 {ours[alias.lower()]} 的名称或别名"
            for lender in values["other_lenders"].names for alias in lender.names if alias.lower() in ours]


def _product_rules(values: dict[str, Any]) -> list[str]:
    cap: Decimal = values["legal_cap_apr"]
    method_codes = {m.code for m in values["repayment_methods"]}
    problems: list[str] = []
    owners: dict[str, str] = {}
    for product in values["products"]:
        where = f"products.{product.code}"
        if product.apr_max > cap:
            problems.append(
                f"{where}: apr_max {format_percent(product.apr_max)} 超过法定上限 legal_cap_apr "
                f"{format_percent(cap)}（司法保护上限，年化利率(单利)含全部费用不得超过）"
            )
        problems += [
            f"{where}: 未知还款方式 {m!r}；已定义: {', '.join(sorted(method_codes))}"
            for m in product.repayment_methods
            if m not in method_codes
        ]
        for name in (*product.names, product.code):
            other = owners.setdefault(name.lower(), product.code)
            if other != product.code:
                problems.append(f"名称或别名 {name!r} 同时属于产品 {other} 和 {product.code}")
    penalty_max: Decimal = values["overdue"].penalty_apr_max
    if penalty_max > cap:
        problems.append(
            f"overdue.penalty_apr_max {format_percent(penalty_max)} 超过法定上限 legal_cap_apr {format_percent(cap)}"
        )
    return problems


def _sla_references(values: dict[str, Any]) -> list[str]:
    kinds = {s.kind for s in values["slas"]}
    referring = [("settlement_certificate", values["settlement_certificate"])]
    referring += [(f"account_services.{a.code}", a) for a in values["account_services"]]
    return [f"{where}.sla_kind: 未定义的工单类型 {section.sla_kind!r}"
            for where, section in referring if section.sla_kind not in kinds]


def _demo_loan_rules(values: dict[str, Any]) -> list[str]:
    demo = values["demo_loan"]
    product = next((p for p in values["products"] if p.code == demo.product), None)
    if product is None:
        return [f"demo_loan.product: 未知产品 {demo.product!r}"]
    if not product.rate_in_range(demo.annual_rate):
        return [f"demo_loan.annual_rate {format_percent(demo.annual_rate)} 不在产品 {demo.product} "
                f"的区间 {format_apr_range(product)} 内"]
    if not product.supports_method(demo.method):
        return [f"demo_loan.method {demo.method!r} 不是产品 {demo.product} 支持的还款方式"]
    return []
