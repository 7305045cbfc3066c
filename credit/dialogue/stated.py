"""The customer's own loan at the rate they stated ("借2万 年化12% 12期"): the figures computed at that rate, not at
our range.  Plain Python over the calculators; every answer says the result is an estimate and promises nothing."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from credit.calculators import Schedule, build_schedule, format_yuan, prepayment_quote
from credit.catalogue.loader import Catalogue, format_percent
from credit.dialogue.facts import StatedRate
from credit.dialogue.state import Example
from credit.replies import Reply, button, numbered, wan

#: methods a stated loan may use (any lender's contract), whatever our product offers
STATED_METHODS = ("equal_installment", "equal_principal", "interest_only")


def apr_text(apr: str) -> str:
    """"0.12" -> "年化12%"."""
    return f"年化{format_percent(Decimal(apr))}"


def stated_apr(rate: Optional[StatedRate]) -> Optional[str]:
    """The annual rate of a stated figure as a decimal string (None for a bare figure or an absurd one)."""
    if rate is None or rate.annual is None or not 0 < rate.annual < 100:
        return None
    return f"{Decimal(str(rate.annual)) / 100:f}"


def schedule_of(example: Example, method: Optional[str] = None) -> Schedule:
    """The example's schedule at its stated rate."""
    return build_schedule(example.amount, Decimal(example.apr or "0"), example.term, method or example.method)


def _payment(s: Schedule) -> str:
    if abs(s.first_payment - s.last_payment) < 1:
        return f"每月还{format_yuan(s.first_payment)}"
    if s.method == "interest_only":
        return f"前{s.months - 1}个月每月还利息{format_yuan(s.first_payment)}，最后一期还{format_yuan(s.last_payment)}"
    return f"首月（第一个月）还{format_yuan(s.first_payment)}，之后逐月减少，末月还{format_yuan(s.last_payment)}"


def _head(cat: Catalogue, example: Example, method: Optional[str] = None) -> str:
    return (f"按您说的借{wan(example.amount)}、分{example.term}期、{cat.method_name(method or example.method)}、"
            f"{apr_text(example.apr or '0')}(单利)计算")


def example_answer(cat: Catalogue, example: Example, income: Optional[int] = None) -> Reply:
    """The example at the stated rate: the payment, the total interest, and (with an income) its share of it."""
    s = schedule_of(example)
    lines = [f"{_head(cat, example)}：{_payment(s)}，总利息{format_yuan(s.total_interest)}，"
             f"一共还{format_yuan(s.total_payment)}。"]
    if income:
        share = s.first_payment / Decimal(income) * 100
        lines.append(f"按您月收入{income:,}元，这笔月供约占收入的{share:.0f}%；一般建议每月所有还款不超过收入的一半。"
                     "能不能批、批多少，以系统审批结果为准。")
    lines.append("这是按您给的利率估算的；实际以合同和APP里的还款计划为准。换期数、换还款方式，或想算提前还清，告诉我就行。")
    return Reply("\n".join(lines), (button("了解提前还款", "ask_prepayment"), button("转人工客服", "request_human")))


def methods_answer(cat: Catalogue, example: Example) -> Reply:
    """等额本息 and 等额本金 at the stated rate, side by side, and which costs less interest."""
    ei, ep = schedule_of(example, "equal_installment"), schedule_of(example, "equal_principal")
    figures = f"借{wan(example.amount)}、分{example.term}期、{apr_text(example.apr or '0')}(单利)"
    lines = [f"按您说的{figures}，两种方式对比：",
             numbered([f"等额本息：每月还{format_yuan(ei.first_payment)}，总利息{format_yuan(ei.total_interest)}",
                       f"等额本金：首月还{format_yuan(ep.first_payment)}，末月还{format_yuan(ep.last_payment)}，"
                       f"总利息{format_yuan(ep.total_interest)}"]),
             f"等额本金总利息少{format_yuan(ei.total_interest - ep.total_interest)}，更省利息，但前几个月压力更大；"
             "等额本息每月一样，便于安排。实际以合同为准。"]
    return Reply("\n".join(lines))


def remaining_answer(cat: Catalogue, example: Example, periods: Optional[int]) -> Reply:
    """The principal still owed after ``periods`` instalments of the stated loan."""
    if not periods or not 0 < periods < example.term:
        return Reply(f"按您说的借{wan(example.amount)}、分{example.term}期，告诉我已经还了几期，我帮您算还剩多少本金。")
    s = schedule_of(example)
    left = s.remaining_after(periods)
    interest_left = s.interest_after(periods)
    return Reply(f"{_head(cat, example)}，还满{periods}期后：\n" + numbered([
        f"剩余本金约{format_yuan(left)}",
        f"之后按期还完，还要付利息约{format_yuan(interest_left)}",
        "如果现在提前还清，付剩余本金加上当期按天计算的利息，提前还款的手续费按您产品的规则"]) +
        "\n实际以APP「我的借款」里显示的为准。")


def payoff_answer(cat: Catalogue, example: Example, month: int) -> Reply:
    """Settle the stated loan at its month ``month`` (instalments 1..month-1 paid), fee by the product's rule."""
    if not 1 <= month < example.term:
        past = "就是最后一期，按期还完就结清了" if month == example.term else "已经超出期限了"
        return Reply(f"刚才的例子一共{example.term}期，第{month}个月{past}。")
    product = cat.product(example.product)
    s = schedule_of(example)
    paid = month - 1
    quote = prepayment_quote(s, paid, product=product, loan_age_months=paid, days_since_last_due=30)
    rule = product.prepayment.description.rstrip("。")
    fee = ("免手续费" if quote.fee == 0 else f"手续费{format_yuan(quote.fee)}") + f"（{product.name}：{rule}）"
    return Reply(f"{_head(cat, example)}，在第{month}个月还款日一次结清，大约需要还：\n" + numbered([
        f"剩余本金：{format_yuan(quote.principal_repaid)}",
        f"第{month}个月的利息：约{format_yuan(quote.interest_to_date)}",
        f"提前还款：{fee}",
        f"合计约{format_yuan(quote.total_now)}，比按期还完少付利息约{format_yuan(quote.interest_saved)}"]) +
        "\n实际金额以APP「提前还款」页面显示的为准（利息按实际天数计算）。")


def penalty_answer(cat: Catalogue, rate: StatedRate) -> Reply:
    """The penalty rate on the customer's contract rate: the multiplier, capped."""
    o = cat.overdue
    apr = Decimal(str(rate.annual or 0)) / 100
    raw = apr * o.penalty_multiplier
    penalty = min(raw, o.penalty_apr_max)
    capped = raw > o.penalty_apr_max
    head = (f"罚息年化利率(单利)是合同年化利率的{o.penalty_multiplier.normalize():f}倍，但最高不超过"
            f"{format_percent(o.penalty_apr_max)}。")
    yours = (f"按您合同的年化{rate.text}，乘出来是{format_percent(raw)}，超过了上限，所以罚息按年化"
             f"{format_percent(penalty)}计算，不会到{format_percent(raw)}。" if capped
             else f"按您合同的年化{rate.text}，罚息年化是{format_percent(penalty)}。")
    return Reply("\n".join([head + yours,
                            f"罚息只对逾期本金、按实际逾期天数计算；还款日后{o.grace_days}天宽限期内还上不收罚息，"
                            "也不收其他违约金。"]),
                 (button("申请协商还款", "affirm"), button("转人工客服", "request_human")))
