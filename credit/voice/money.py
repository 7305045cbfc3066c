"""Voice forms of the money answers: rates, every fee, repayment methods compared, jargon in plain words and the
product recommendation.  Figures come from the catalogue and the calculators; a rate is always said as
年化利率 (the speech gate adds "按单利计算") and every turn of a rate answer keeps the short disclaimer."""
from __future__ import annotations

from typing import Optional

from credit.answers.explain import penalty_rule
from credit.calculators import Schedule, build_schedule, format_yuan, payment_range
from credit.catalogue.glossary import methods_in
from credit.catalogue.loader import Catalogue, Product, format_apr_range, format_percent
from credit.compliance import RATE_DISCLAIMER_VOICE
from credit.needs.matching import Need, match_products
from credit.replies import DEFAULT_EXAMPLE_AMOUNT, DEFAULT_EXAMPLE_TERM, wan
from credit.voice.generic import from_text, sentence_points
from credit.voice.rules import FEE_CUES, as_sentence, build_form, product_of
from credit.voice.turns import Ask, Point, VoiceForm

# --------------------------------------------------------------------- rates


def _monthly(product: Product, amount: int, term: int) -> str:
    if not product.amount_in_range(amount):
        return f"{product.name}可借{product.format_amount_range()}，{wan(amount)}不在范围内。"
    if not product.supports_term(term):
        return f"{product.name}可选期限为{product.format_terms()}，暂不支持{term}期。"
    low, high = payment_range(product, amount, term, product.example_method)
    return f"按借{wan(amount)}、分{term}期算，每月大约还{low.first_payment:.0f}元到{high.first_payment:.0f}元。"


def rates(cat: Catalogue, ask: Ask) -> VoiceForm:
    product = product_of(cat, ask)
    amount, term = ask.amount or DEFAULT_EXAMPLE_AMOUNT, ask.term or DEFAULT_EXAMPLE_TERM
    low = min(p.apr_min for p in cat.products)
    high = max(p.apr_max for p in cat.products)
    points = [
        Point("range_all", "", f"我们产品的年化利率(单利)在{format_percent(low)}到{format_percent(high)}之间，"
              "各款产品不同。", ("利率", "利息", "多少", "哪款", "产品")),
        Point("product", "", (f"{product.name}的{format_apr_range(product)}。" + _monthly(product, amount, term))
              if product else "", ("利率", "利息", "多少", "月供", "每月", "还多少"), needs_product=True),
    ]
    if product:
        points = [points[1], Point("terms", "可借多少、分几期",
                                   f"{product.name}可借{product.format_amount_range()}，期限{product.format_terms()}。",
                                   ("期限", "几期", "能借多少", "额度", "多久"))]
    return build_form(cat, "rates", ask, points, product, keep=RATE_DISCLAIMER_VOICE, sms=True,
                 product_question="想听哪款产品的利率和月供？")


# ---------------------------------------------------------------------- fees

def fees(cat: Catalogue, ask: Ask) -> VoiceForm:
    product = product_of(cat, ask)
    points = [
        Point("upfront", "放款前收不收费", "借款只付利息，年化利率已包含全部费用，不另收服务费、管理费；"
              "放款前不收任何费用，要您先交钱的都是诈骗。",
              ("先交", "放款前", "砍头", "服务费", "管理费", "前期", "隐藏")),
        Point("prepayment", "提前还款的手续费",
              f"{product.name}提前还款：{as_sentence(product.prepayment.description)}" if product else "",
              ("提前", "结清"), fee=True, needs_product=True),
        Point("penalty", "逾期罚息", f"逾期的话，{penalty_rule(cat)}。", ("逾期", "罚息", "晚还", "违约金"), fee=True),
        Point("certificate", "开结清证明要不要钱", f"开结清证明：{cat.settlement_certificate.fee}。",
              ("结清证明", "证明")),
    ]
    return build_form(cat, "fees", ask, points, product, sms=True,
                 product_question="提前还款的手续费每款产品不一样，请问您问的是哪款？")


# ------------------------------------------------------ repayment methods compared

def _payments(schedule: Schedule) -> str:
    if abs(schedule.first_payment - schedule.last_payment) < 1:  # level payments (the last absorbs rounding)
        return f"每月还约{format_yuan(schedule.first_payment)}"
    return f"首月还{format_yuan(schedule.first_payment)}，末月还{format_yuan(schedule.last_payment)}"


def methods(cat: Catalogue, ask: Ask) -> VoiceForm:
    codes = list(dict.fromkeys([*methods_in(ask.question), "equal_installment", "equal_principal"]))[:2]
    product = next((p for p in cat.products if all(c in p.repayment_methods for c in codes)),
                   cat.product(cat.demo_loan.product))
    codes = [c for c in codes if c in product.repayment_methods] or list(product.repayment_methods)
    amount = ask.amount if ask.amount and product.amount_in_range(ask.amount) else DEFAULT_EXAMPLE_AMOUNT
    term = ask.term if ask.term and product.supports_term(ask.term) else DEFAULT_EXAMPLE_TERM
    schedules = {c: build_schedule(amount, product.apr_min, term, c) for c in codes}
    cheapest = min(schedules, key=lambda c: schedules[c].total_interest)
    totals = "，".join(f"{cat.method_name(c)}总利息{format_yuan(s.total_interest)}" for c, s in schedules.items())
    monthly = "；".join(cat.method_name(c) + _payments(s) for c, s in schedules.items())
    points = [
        Point("totals", "", f"借{wan(amount)}分{term}期，按{product.name}最低年化利率算，{totals}。"
              f"{cat.method_name(cheapest)}总利息更少，但前期每月还得更多。", ("哪个", "少", "省", "划算", "区别")),
        Point("monthly", "每月各还多少", f"每月还款：{monthly}。", ("每月", "月供", "每个月")),
        Point("meaning", "两种方式是什么意思",
              "".join(f"{cat.method_name(c)}：{cat.method(c).description}" for c in codes),
              ("什么意思", "是什么", "怎么理解")),
    ]
    return build_form(cat, "methods", Ask(ask.question, product.code, amount, term, ask.lead), points, product,
                 keep=RATE_DISCLAIMER_VOICE)


# ------------------------------------------------------------------- jargon

def explanation(cat: Catalogue, ask: Ask) -> Optional[VoiceForm]:
    """Plain words for the terms the question asks about (None when it asks none)."""
    concepts = cat.glossary.concepts_in(ask.question)
    if methods_in(ask.question):
        return methods(cat, ask)
    if not concepts:
        return None
    texts = []
    for concept in concepts:
        plain = concept.plain
        if concept.code == "penalty":
            plain += penalty_rule(cat) + "。"
        elif concept.code == "credit_report":
            plain += f"逾期超过{cat.overdue.credit_report_after_days}天的记录会被报送，还清后如实更新为已结清。"
        texts.append(f"{concept.name}：{plain}")
    return build_form(cat, "explanation", ask, list(sentence_points("explanation", "".join(texts))), None)


# ----------------------------------------------------------- recommendation

def recommendation(cat: Catalogue, need: Need, lead: str = "") -> VoiceForm:
    purpose = cat.needs.purpose(need.purpose)
    if purpose is not None and purpose.note and not any(purpose.code in p.purposes for p in cat.products):
        return from_text("recommendation", purpose.note, ({"title": "申请条件", "payload": "/ask_eligibility"},))
    match = match_products(cat, need)[0]
    p = match.product
    low, high = payment_range(p, match.amount, match.term, p.example_method)
    points = [
        Point("product", "", f"比较适合您的是{p.name}，{format_apr_range(p)}。"),
        Point("example", "按您说的金额每月还多少", f"按借{wan(match.amount)}、分{match.term}期算，每月大约还"
              f"{low.first_payment:.0f}元到{high.first_payment:.0f}元，总利息大约"
              f"{low.total_interest:.0f}元到{high.total_interest:.0f}元。", ("每月", "月供", "利息", "还多少")),
        Point("materials", "要准备的材料", "需要准备：" + "、".join([*cat.eligibility.materials, *p.materials]) + "。",
              ("材料", "准备")),
        Point("terms", "可借多少、分几期", f"{p.name}可借{p.format_amount_range()}，期限{p.format_terms()}。",
              ("期限", "几期")),
    ]
    ask = Ask("", p.code, match.amount, match.term, lead)
    return build_form(cat, "recommendation", ask, points, p, keep=RATE_DISCLAIMER_VOICE)


__all__ = ["explanation", "fees", "methods", "rates", "recommendation", "FEE_CUES"]
