"""The recommendation at the end of need discovery: the fitting product(s), each with its
annualised range, a worked example on the customer's own figures, its conditions and *all* the
materials to prepare, then an affordability hint when an income was given.

Plain Python over the catalogue and the calculators (the compliance test runs it for many
needs); the voice form names one product, one example and the materials, for the ear.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from credit.calculators import format_yuan, payment_range
from credit.catalogue.loader import Catalogue, Product, format_apr_range
from credit.catalogue.products import SUPPORTED_METHODS
from credit.compliance import RATE_DISCLAIMER, RATE_DISCLAIMER_VOICE
from credit.needs.matching import COMFORTABLE_SHARE, Match, Need, match_products, repayment_share
from credit.replies import Reply, button, numbered, wan


def need_summary(cat: Catalogue, need: Need) -> str:
    """"装修，借10万元，分24期" from what the customer told us (empty when nothing)."""
    purpose = cat.needs.purpose(need.purpose)
    parts = [purpose.name] if purpose else []
    if need.amount:
        parts.append(f"借{wan(need.amount)}")
    if need.term:
        parts.append(f"分{need.term}期")
    return "，".join(parts)


def materials_for(cat: Catalogue, match: Match) -> list[str]:
    """Every document this product's applicant prepares: the general ones plus the product's own."""
    return [*cat.eligibility.materials, *match.product.materials]


def recommendation(cat: Catalogue, need: Need, voice: bool = False) -> Reply:
    purpose = cat.needs.purpose(need.purpose)
    if purpose is not None and purpose.note and not any(purpose.code in p.purposes for p in cat.products):
        return Reply(purpose.note, (button("申请条件", "ask_eligibility"), button("转人工客服", "request_human")))
    matches = match_products(cat, need)
    if voice:
        return _voice(cat, need, matches[0])
    summary = need_summary(cat, need)
    lines = [(f"根据您的需求（{summary}）" if summary else "根据您说的情况")
             + ("，比较适合的是：" if matches[0].fits else "：" + cat.needs.no_fit)]
    lines.append(numbered([_product_block(cat, m, need) for m in matches]))
    hint = _affordability(cat, need, matches[0])
    if hint:
        lines.append(hint)
    lines.append("能否通过、最终额度和利率，都以系统审批结果为准。")
    lines.append(RATE_DISCLAIMER)
    return Reply("\n".join(lines), (button("费用有哪些", "ask_interest_rate"), button("转人工客服", "request_human")))


def _example(match: Match) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    low, high = payment_range(match.product, match.amount, match.term, match.product.example_method)
    return low.first_payment, high.first_payment, low.total_interest, high.total_interest


def _product_block(cat: Catalogue, match: Match, need: Need) -> str:
    p = match.product
    pay_low, pay_high, int_low, int_high = _example(match)
    own = "按您说的" if match.fits and (need.amount or need.term) else "举例"
    method_name = SUPPORTED_METHODS[p.example_method]
    lines = [
        f"{p.name}（{p.category}）：{format_apr_range(p)}，可借{p.format_amount_range()}，期限{p.format_terms()}",
        f"   · {own}借{wan(match.amount)}、分{match.term}期（{method_name}）：每月约还{format_yuan(pay_low)}–"
        f"{format_yuan(pay_high)}，总利息约{format_yuan(int_low)}–{format_yuan(int_high)}",
    ]
    if p.eligibility:
        lines.append("   · 申请条件：" + "；".join(p.eligibility))
    lines.append("   · 需要准备：" + "、".join(materials_for(cat, match)))
    return "\n".join(lines)


def _affordability(cat: Catalogue, need: Need, match: Match) -> Optional[str]:
    _, pay_high, _, _ = _example(match)
    share = repayment_share(need.income, need.monthly_debt, pay_high)
    if share is None:
        return cat.needs.no_income if need.amount else None
    percent = f"{int((share * 100).to_integral_value())}%"
    text = cat.needs.within_means if share <= COMFORTABLE_SHARE else cat.needs.over_means
    return text.format(share=percent) + "这只是帮您估算还款压力，不代表审批结果。"


def _voice(cat: Catalogue, need: Need, match: Match) -> Reply:
    p = match.product
    pay_low, pay_high, _, _ = _example(match)
    text = (f"比较适合您的是{p.name}，{format_apr_range(p)}。按借{wan(match.amount)}、分{match.term}期算，"
            f"每月大约还{pay_low:.0f}元到{pay_high:.0f}元。需要准备{'、'.join(materials_for(cat, match))}。"
            + RATE_DISCLAIMER_VOICE)
    return Reply(text, (button("转人工客服", "request_human"),))


__all__ = ["recommendation", "need_summary", "materials_for"]


def fitting_product_line(cat: Catalogue, product: Product) -> str:
    """The one product that serves the purpose, named at once (before the amount is asked)."""
    return (f"按您的用途，适合的是{product.name}：{format_apr_range(product)}，可借{product.format_amount_range()}，"
            f"期限最长{product.term_max}期。")
