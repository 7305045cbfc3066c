"""Fees and jargon explained: every fee from the catalogue, terms in plain words, repayment methods
compared on the customer's own figures.  Plain Python; texts from credit/catalogue.yml."""
from __future__ import annotations

import re
from typing import Optional

from credit.calculators import build_schedule, format_yuan
from credit.catalogue.loader import Catalogue, Product, format_apr, format_apr_range, format_percent
from credit.compliance import RATE_DISCLAIMER
from credit.replies import DEFAULT_EXAMPLE_AMOUNT, DEFAULT_EXAMPLE_TERM, Reply, button, numbered, wan

# ---------------------------------------------------------------------- fees

# a rate question that is really about fees ("有没有手续费", "会不会先扣钱")
FEE_WORDS = ("手续费", "服务费", "管理费", "费用", "收费", "扣费", "砍头", "先扣", "违约金", "罚息", "额外")


def is_fee_question(text: str) -> bool:
    return any(word in (text or "") for word in FEE_WORDS)


def penalty_rule(cat: Catalogue) -> str:
    """The penalty-interest rule in one sentence, from the catalogue's overdue figures."""
    o = cat.overdue
    multiplier = f"{o.penalty_multiplier.normalize():f}"
    return (f"超过{o.grace_days}天宽限期仍未还清的，对逾期本金按合同年化利率的{multiplier}倍计收罚息"
            f"（不超过年化{format_percent(o.penalty_apr_max)}），不收其他违约金")


def fees_answer(cat: Catalogue, voice: bool = False) -> Reply:
    """Every fee that can apply, from the catalogue: none up front, the prepayment fee by product,
    penalty interest after the grace period, the settlement certificate."""
    penalty = penalty_rule(cat)
    prepay = [f"{p.name}：{p.prepayment.description.rstrip('。')}" for p in cat.products]
    if voice:
        return Reply(f"借款只付利息，按年化利率计算，放款前不收任何费用。提前还款：{'；'.join(prepay)}。"
                     f"逾期的话，{penalty}。")
    body = ("费用给您一次说清楚：\n" + numbered([
        "利息：按年化利率(单利)计算，利率里已含全部费用，不另收服务费、管理费。",
        "放款前：申请、审批、放款前都不收取任何费用；凡是要求先交钱的都是诈骗。",
        "提前还款手续费：" + "".join(f"\n   · {line}" for line in prepay),
        f"逾期罚息：{penalty}。",
        f"结清证明：{cat.settlement_certificate.fee}。",
    ]) + "\n想知道具体借款要付多少利息，告诉我金额和期数，我帮您算。")
    return Reply(body, (button("利率是多少", "ask_interest_rate"), button("了解提前还款", "ask_prepayment")))


# ------------------------------------------------------------------- jargon

def explanation_answer(cat: Catalogue, text: str, amount: Optional[int] = None,
                       term: Optional[int] = None) -> Optional[Reply]:
    """Plain words for the terms a question asks about; repayment methods compared on the customer's
    figures (or 1万 / 12期).  None when the question asks no explanation."""
    from credit.catalogue.glossary import methods_in

    methods = methods_in(text)
    concepts = [] if methods else cat.glossary.concepts_in(text)
    if not methods and not concepts:
        return None
    if methods:
        return _methods_compared(cat, methods, amount, term)
    lines = []
    for concept in concepts:
        plain = concept.plain
        if concept.code == "penalty":
            plain += penalty_rule(cat) + "。"
        elif concept.code == "credit_report":
            plain += f"逾期超过{cat.overdue.credit_report_after_days}天的记录会被报送，还清后如实更新为已结清。"
        lines.append(f"{concept.name}：{plain}")
    return Reply("\n".join(lines) + "\n还有哪里不清楚，您随时问我。")


def _methods_compared(cat: Catalogue, methods: list[str], amount: Optional[int], term: Optional[int]) -> Reply:
    codes = list(dict.fromkeys([*methods, "equal_installment", "equal_principal"]))[:max(2, len(methods))]
    product = next((p for p in cat.products if all(c in p.repayment_methods for c in codes)), None)
    if product is None:
        product = cat.product(cat.demo_loan.product)
        codes = [c for c in codes if c in product.repayment_methods] or list(product.repayment_methods)
    amount = amount if amount and product.amount_in_range(amount) else DEFAULT_EXAMPLE_AMOUNT
    term = term if term and product.supports_term(term) else DEFAULT_EXAMPLE_TERM
    lines = [f"用同一个例子比给您看：借{wan(amount)}、分{term}期，"
             f"按{product.name}最低{format_apr(product.apr_min)}计算："]
    totals = {}
    for code in codes:
        schedule = build_schedule(amount, product.apr_min, term, code)
        totals[code] = schedule.total_interest
        level = abs(schedule.first_payment - schedule.last_payment) < 1  # the last one absorbs rounding
        monthly = (f"每月还约{format_yuan(schedule.first_payment)}" if level
                   else f"首月还{format_yuan(schedule.first_payment)}，末月还{format_yuan(schedule.last_payment)}")
        lines.append(f"· {cat.method_name(code)}：{monthly}，总利息{format_yuan(schedule.total_interest)}。"
                     f"{cat.method(code).description}")
    cheapest = min(totals, key=totals.get)
    lines.append(f"总利息最少的是{cat.method_name(cheapest)}；但前期每月要还得更多。选哪种，主要看您前几个月的还款压力。")
    lines.append(RATE_DISCLAIMER)
    return Reply("\n".join(lines))


# ---------------------------------------------------------------- objections

OBJECTION = re.compile(r"太高|太贵|贵了|高了|好贵|真贵|贵死|不便宜|别家才|人家才|别的平台才|其他平台才|"
                       r"便宜点|能不能低|能便宜")
_OTHER_RATE = re.compile(r"(?:别家|人家|别的平台|其他平台|[借花白金]呗|微粒贷|京东)[^，。！？,.!?]{0,8}?"
                         r"(\d+(?:\.\d+)?)\s*[%％]")
_PERIOD_WORD = re.compile(r"日(?:利率|息|费率)|每天|一天|天息")


def is_objection(text: str) -> bool:
    return bool(OBJECTION.search(text or ""))


def objection_answer(cat: Catalogue, text: str, product_code: Optional[str], amount: Optional[int],
                     term: Optional[int]) -> Reply:
    """An objection answered on its point: another offer's rate (compare annualised) and "too
    expensive" (a smaller amount or another term, each with its monthly payment AND total interest;
    never more borrowing)."""
    product = cat.find_product(product_code or "") or cat.product(cat.demo_loan.product)
    # the annualised rate comes first (the checker refuses a daily or monthly rate before it)
    lines = ["理解您想把成本降下来，我们一起算清楚。",
             f"{product.name}的{format_apr_range(product)}，已经包含全部费用。"]
    other = _OTHER_RATE.search(text or "")
    if other:
        rate = float(other.group(1))
        daily = bool(_PERIOD_WORD.search(text))
        annual = rate * (365 if daily else 12)
        unit = "日" if daily else "月"
        lines.append(f"您说的{other.group(1)}%，如果是{unit}利率，折成年化大约是{annual:.0f}%；比较不同平台，"
                     "一定要都换成年化利率(单利)再比，别只看日利率或月利率。")
    amount = amount if amount and product.amount_in_range(amount) else None
    term = term if term and product.supports_term(term) else None
    if amount and term:
        lines += _alternatives(product, amount, term)
    else:
        lines.append("告诉我您想借多少、分几期，我可以帮您算算少借一点或换个期限，每月还多少、总利息多少。")
    lines.append("借多少请按实际需要和还款能力来，不建议为了凑额度多借。")
    return Reply("\n".join(lines), (button("利率是多少", "ask_interest_rate"), button("转人工客服", "request_human")))


def _alternatives(product: Product, amount: int, term: int) -> list[str]:
    method = product.repayment_methods[0]
    now = build_schedule(amount, product.apr_min, term, method)
    lines = [f"按最低年化算，借{wan(amount)}、分{term}期：每月还{format_yuan(now.first_payment)}，"
             f"总利息{format_yuan(now.total_interest)}。可以考虑："]
    smaller = int(amount * 0.7 // 1000 * 1000)
    if product.amount_in_range(smaller) and smaller < amount:
        s = build_schedule(smaller, product.apr_min, term, method)
        lines.append(f"· 少借一些，比如{wan(smaller)}、仍分{term}期：每月还{format_yuan(s.first_payment)}，"
                     f"总利息{format_yuan(s.total_interest)}（更省）。")
    longer = next((t for t in product.terms if t > term), None)
    if longer:
        s = build_schedule(amount, product.apr_min, longer, method)
        extra = format_yuan(s.total_interest - now.total_interest)
        lines.append(f"· 期限拉长到{longer}期：每月还{format_yuan(s.first_payment)}，月供更轻，"
                     f"但总利息{format_yuan(s.total_interest)}，比{term}期多{extra}。")
    return lines
