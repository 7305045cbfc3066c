"""The catalogue's rules applied to the customer's own facts (plain Python; every figure from the catalogue and
the calculators).  Each function answers the question first, in the customer's terms, and promises nothing."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Optional

from credit.calculators import build_schedule, format_yuan, payment_range, prepayment_quote
from credit.catalogue.loader import Catalogue, Product, format_apr, format_apr_range, format_percent
from credit.compliance import RATE_DISCLAIMER
from credit.dialogue import stated
from credit.dialogue.facts import StatedRate
from credit.dialogue.state import ConversationState, Example
from credit.replies import DEFAULT_EXAMPLE_AMOUNT, DEFAULT_EXAMPLE_TERM, Reply, button, numbered, wan

#: the share of monthly income a new repayment should stay under (an advice, not a rule of approval)
AFFORDABLE_SHARE = Decimal("0.5")


def _product(cat: Catalogue, code: Optional[str]) -> Product:
    return cat.find_product(code or "") or cat.product(cat.demo_loan.product)


def example_for(cat: Catalogue, state: ConversationState, method: Optional[str] = None,
                term: Optional[int] = None) -> Optional[Example]:
    """The worked example the state points at, with a changed method or term; None when it would not fit."""
    base = state.example
    product = _product(cat, state.product or (base.product if base else None))
    amount = state.amount or (base.amount if base else None) or DEFAULT_EXAMPLE_AMOUNT
    term = term or state.term or (base.term if base else None) or DEFAULT_EXAMPLE_TERM
    method = method or state.method or (base.method if base else None) or product.example_method
    if base is not None and base.apr:  # the customer's own loan at their rate: our ranges do not apply
        method = method if method in stated.STATED_METHODS else "equal_installment"
        return Example(product=product.code, amount=amount, term=term, method=method, apr=base.apr) \
            if 0 < term <= 120 else None
    if not product.supports_method(method):
        method = product.example_method
    if not (product.amount_in_range(amount) and product.supports_term(term)):
        return None
    return Example(product=product.code, amount=amount, term=term, method=method)


# --------------------------------------------------------------- overdue

def overdue_days_answer(cat: Catalogue, days: int, repaid: bool) -> Reply:
    """Days overdue against the grace period and the reporting threshold (catalogue ``overdue``)."""
    o = cat.overdue
    if days <= 0 and repaid:  # paid on or before the due day
        head = "您是在还款日当天或之前还上的，属于按时还款，不算逾期，也不影响征信，这期按正常还款处理。"
    elif days <= o.grace_days:
        head = (f"{days}天在{o.grace_days}天宽限期内：不收罚息，也不会作为逾期报送征信。"
                + ("您已经还上了，这期就按正常还款处理，不用担心。" if repaid
                   else f"请在还款日后{o.grace_days}天内把这期还清，就不受影响。"))
    elif days <= o.credit_report_after_days:
        head = (f"{days}天已经超过了宽限期（{o.grace_days}天）：从还款日次日起会按合同年化利率的"
                f"{o.penalty_multiplier.normalize():f}倍对逾期本金计收罚息（不超过年化{format_percent(o.penalty_apr_max)}）；"
                f"逾期不超过{o.credit_report_after_days}天的，不会报送征信。"
                + ("已经还上了就好，罚息按实际逾期天数计算，可在APP「我的借款」里看到明细。" if repaid
                   else f"请尽快还清，别超过{o.credit_report_after_days}天。"))
    else:
        head = (f"逾期{days}天已经超过{o.credit_report_after_days}天，这条逾期记录会如实报送人行征信；"
                "还清后会更新为已结清，但记录本身不会被删除。"
                + ("" if repaid else "越早还清，影响越小。"))
    lines = [head]
    if not repaid and days > o.grace_days:
        lines.append(o.advice + "需要的话，我现在就帮您登记协商还款，由专员联系您商量方案。")
        return Reply("\n".join(lines), (button("申请协商还款", "affirm"), button("转人工客服", "request_human")))
    return Reply("\n".join(lines))  # repaid, or within the grace period: nothing to negotiate


# ------------------------------------------------------------ prepayment

def periods_fee_answer(cat: Catalogue, periods: int, product_code: Optional[str],
                       example: Optional[Example] = None, prepay: Optional[int] = None) -> Reply:
    """Periods repaid against each product's prepayment fee rule (one product when it is known); with the
    principal to prepay, the fee on it; with the customer's amount and term, what settling after those periods
    takes."""
    product = cat.find_product(product_code or "")
    products = [product] if product else list(cat.products)
    lines = [f"按您已经还了{periods}期来看提前还款手续费："]
    items = []
    for p in products:
        rate = p.prepayment.fee_rate_for(periods, periods)
        verdict = ("免手续费" if rate == 0
                   else f"还要按提前还款本金的{format_percent(rate)}收手续费")
        if rate and prepay:
            fee = (Decimal(prepay) * Decimal(str(rate))).quantize(Decimal("0.01"))
            verdict += f"，提前还{wan(prepay)}的手续费是{format_yuan(fee)}"
        items.append(f"{p.name}：{verdict}（规则：{p.prepayment.description.rstrip('。')}）")
    lines.append(numbered(items) if len(items) > 1 else items[0] + "。")
    lines.append("提前还款当天之前按实际天数计息，之后不再计收。")
    payoff = repaid_payoff_line(cat, example, periods) if example is not None else None
    if payoff:
        lines.append(payoff)
    elif product is None:
        lines.append("告诉我您借的是哪个产品、借了多少，我可以帮您把要还的钱算出来。")
    return Reply("\n".join(lines))


def product_prepayment_answer(cat: Catalogue, product_code: str) -> Reply:
    """A bare product name after the prepayment rules: that product's rule, in a few lines."""
    product = _product(cat, product_code)
    lines = [f"{product.name}的提前还款：{product.prepayment.description}",
             cat.prepayment.interest_rule,
             "在APP「我的借款」里选择「提前还款」即可办理，应还金额会分项列明。",
             "告诉我借款金额、期数和已经还了几期，我帮您估算一次结清要还多少。"]
    return Reply("\n".join(lines), (button("好的，帮我试算", "affirm"), button("不用了", "deny")))


def payoff_answer(cat: Catalogue, example: Example, month: int) -> Reply:
    """Settle the worked example at its month ``month`` (instalments 1..month-1 paid, month's interest due)."""
    if example.apr:
        return stated.payoff_answer(cat, example, month)
    product = cat.product(example.product)
    if not 1 <= month <= example.term:
        return Reply(f"刚才的例子一共{example.term}期，第{month}个月已经超出期限了。"
                     "您想算第几个月结清，再告诉我一次就行。")
    if month == example.term:
        return Reply(f"第{example.term}个月就是最后一期，按期还完就结清了，不需要提前还款。")
    schedule = build_schedule(example.amount, product.apr_min, example.term, example.method)
    paid = month - 1
    quote = prepayment_quote(schedule, paid, product=product, loan_age_months=paid, days_since_last_due=30)
    rule = product.prepayment.description.rstrip("。")
    fee = f"免手续费（{rule}）" if quote.fee == 0 else f"手续费{format_yuan(quote.fee)}（{rule}）"
    lines = [
        f"按刚才的例子（{product.name}借{wan(example.amount)}、分{example.term}期、{cat.method_name(example.method)}、"
        f"最低{format_apr(product.apr_min)}），在第{month}个月还款日一次结清，大约需要还：",
        numbered([
            f"剩余本金：{format_yuan(quote.principal_repaid)}",
            f"第{month}个月的利息：约{format_yuan(quote.interest_to_date)}",
            f"提前还款：{fee}",
            f"合计约{format_yuan(quote.total_now)}，比按期还完少付利息约{format_yuan(quote.interest_saved)}",
        ]),
        "实际金额以APP「提前还款」页面显示的为准（利息按实际天数计算）。",
    ]
    return Reply("\n".join(lines))


# ----------------------------------------------------------------- rates

def example_answer(cat: Catalogue, example: Example) -> Reply:
    """The worked example recomputed (another term or method): monthly payment and total interest, both ends."""
    if example.apr:
        return stated.example_answer(cat, example)
    product = cat.product(example.product)
    low, high = payment_range(product, example.amount, example.term, example.method)
    level = abs(low.first_payment - low.last_payment) < 1

    def monthly(s) -> str:  # noqa: ANN001 - a calculators.Schedule
        return (f"每月还{format_yuan(s.first_payment)}" if level
                else f"首月还{format_yuan(s.first_payment)}、之后逐月减少")

    lines = [f"按{product.name}借{wan(example.amount)}、分{example.term}期、{cat.method_name(example.method)}计算：",
             f"· 按最低{format_apr(product.apr_min)}：{monthly(low)}，总利息{format_yuan(low.total_interest)}",
             f"· 按最高{format_apr(product.apr_max)}：{monthly(high)}，总利息{format_yuan(high.total_interest)}",
             RATE_DISCLAIMER]
    return Reply("\n".join(lines), (button("了解提前还款", "ask_prepayment"), button("转人工客服", "request_human")))


def example_recap(cat: Catalogue, example: Example) -> Reply:
    """The example just shown, asked about again ("利息一共多少"): its payment and total interest in one line."""
    if example.apr:
        s = stated.schedule_of(example)
        return Reply(f"还是按{wan(example.amount)}、{example.term}期、{stated.apr_text(example.apr)}(单利)：总利息"
                     f"{format_yuan(s.total_interest)}，每期约{format_yuan(s.first_payment)}，一共还{format_yuan(s.total_payment)}。")
    product = cat.product(example.product)
    low, high = payment_range(product, example.amount, example.term, example.method)
    # an equal instalment is the same every month; the other methods start higher and change
    monthly = "每月还" if example.method == "equal_installment" else "首月还"
    return Reply(f"还是按{product.name}借{wan(example.amount)}、分{example.term}期：{monthly}约"
                 f"{format_yuan(low.first_payment)}到{format_yuan(high.first_payment)}，总利息在"
                 f"{format_yuan(low.total_interest)}到{format_yuan(high.total_interest)}之间（看审批给的年化利率）。"
                 f"{RATE_DISCLAIMER}")


def methods_compared_answer(cat: Catalogue, example: Example) -> Reply:
    """等额本息 and 等额本金 on the customer's figures, and the difference between them."""
    if example.apr:
        return stated.methods_answer(cat, example)
    product = cat.product(example.product)
    if not product.supports_method("equal_principal") or not product.supports_method("equal_installment"):
        product = next(p for p in cat.products if p.supports_method("equal_principal"))
    amount = example.amount if product.amount_in_range(example.amount) else DEFAULT_EXAMPLE_AMOUNT
    term = example.term if product.supports_term(example.term) else DEFAULT_EXAMPLE_TERM
    ei = build_schedule(amount, product.apr_min, term, "equal_installment")
    ep = build_schedule(amount, product.apr_min, term, "equal_principal")
    lines = [f"按{product.name}借{wan(amount)}、分{term}期、最低{format_apr(product.apr_min)}，两种方式对比：",
             f"· 等额本息：每月还{format_yuan(ei.first_payment)}，总利息{format_yuan(ei.total_interest)}",
             f"· 等额本金：首月还{format_yuan(ep.first_payment)}，末月还{format_yuan(ep.last_payment)}，"
             f"总利息{format_yuan(ep.total_interest)}",
             f"两者总利息相差{format_yuan(ei.total_interest - ep.total_interest)}，总利息最少的是等额本金，"
             "但前几个月压力更大；等额本息每月一样，便于安排。",
             RATE_DISCLAIMER]
    return Reply("\n".join(lines))


def other_rate_answer(cat: Catalogue, rate: StatedRate, product_code: Optional[str]) -> Reply:
    """Another lender's rate compared as the customer stated it: 年化 stays annual, a monthly or daily figure is
    converted, a bare figure is read both ways."""
    product = _product(cat, product_code)
    ours = f"{product.name}的{format_apr_range(product)}，已包含全部费用"
    if rate.unit == "annual":
        compare = (f"您说的是年化{rate.text}，和我们的年化可以直接比：{ours}。"
                   + ("对方更低的话，建议把两边合同里的年化利率(单利)和全部费用都看清楚再选。"
                      if rate.annual is not None and Decimal(str(rate.annual)) / 100 < product.apr_min
                      else "您的实际利率以审批结果为准。"))
    elif rate.unit in ("monthly", "daily"):
        unit = "月利率" if rate.unit == "monthly" else "日利率"
        compare = (f"{ours}。您说的{rate.text}是{unit}，折成年化大约是{round(rate.annual, 2):g}%；"
                   "比较不同平台，要都换成年化利率(单利)再比。")
    else:
        compare = (f"{ours}。您说的{rate.text}如果是年化，可以直接和我们比；如果是按月计的，折成年化约"
                   f"{rate.figure * 12:.0f}%。比较时请看合同里写明的年化利率(单利)。")
    lines = ["理解您想把成本降下来。", compare,
             "想降低成本，可以：少借一点、选更短的期限、或选等额本金；按时还款也有助于以后的定价。",
             "告诉我想借多少、分几期，我帮您把每月还款和总利息算出来。"]
    return Reply("\n".join(lines), (button("利率是多少", "ask_interest_rate"), button("转人工客服", "request_human")))


def rate_complaint_answer(cat: Catalogue, product_code: Optional[str]) -> Reply:
    """A short "利息太高了": the rate as it is, and the ways to lower the cost (never more borrowing)."""
    product = cat.find_product(product_code or "")
    rates = (f"{product.name}的{format_apr_range(product)}" if product
             else "我们的产品" + "；".join(f"{p.name}{format_apr_range(p)}" for p in cat.products))
    lines = [f"理解您的感受，先把实际利率说清楚：{rates}，已包含全部费用，不另收服务费。",
             "想让成本低一些，可以这样：",
             numbered(["按实际需要少借一点，利息随本金减少；",
                       "选短一些的期限，总利息更少；",
                       "选等额本金，总利息比等额本息少；",
                       "有闲钱时提前还款，利息只算到还款当天。"]),
             "您的实际利率以审批结果为准。告诉我金额和期数，我帮您算出每种做法各省多少。"]
    return Reply("\n".join(lines), (button("利率是多少", "ask_interest_rate"),
                                    button("了解提前还款", "ask_prepayment")))


# ------------------------------------------------------- terms, affordability

def longest_term_answer(cat: Catalogue, product_code: Optional[str], amount: Optional[int]) -> Reply:
    """The terms first: the fitting product's longest term (or each product's), then one question."""
    product = cat.find_product(product_code or "")
    if product is not None:
        head = (f"{product.name}最长可以分{product.term_max}期，可选{product.format_terms()}，"
                f"可借{product.format_amount_range()}。")
    else:
        fitting = [p for p in cat.products if amount is None or p.amount_in_range(amount)] or list(cat.products)
        head = "最长能分多久，看产品：\n" + numbered(
            [f"{p.name}：最长{p.term_max}期（可选{p.format_terms()}）" for p in fitting])
    tail = "期限越长月供越轻，但总利息越多。"
    if amount:
        tail += f"想看借{wan(amount)}分不同期数的月供，告诉我期数就行。"
    return Reply(head + "\n" + tail)


def affordability_answer(cat: Catalogue, income: int, amount: int, product_code: Optional[str],
                         term: Optional[int], monthly_debt: Optional[int] = None) -> Reply:
    """Monthly payment against income, as advice: whether it is approved is for the review to decide."""
    product = _product(cat, product_code)
    if not product.amount_in_range(amount):
        product = next((p for p in cat.products if p.amount_in_range(amount)), product)
    terms = [term] if term and product.supports_term(term) else [t for t in (12, 24, 36) if product.supports_term(t)]
    lines = [f"按您月收入{income:,}元、想借{wan(amount)}帮您估一下"
             f"（{product.name}，按最低{format_apr(product.apr_min)}）："]
    items, shares = [], []
    debt = Decimal(monthly_debt or 0)
    for t in terms[:3]:
        s = build_schedule(amount, product.apr_min, t, product.example_method)
        share = (s.first_payment + debt) / Decimal(income) * 100
        shares.append(share)
        with_debt = f"，加上现有每月{int(debt):,}元还款" if debt else ""
        items.append(f"分{t}期：每月约{format_yuan(s.first_payment)}{with_debt}，约占收入的{share:.0f}%")
    lines.append(numbered(items))
    lines.append(_burden(min(shares), term is not None))
    lines.append(f"一般建议每月所有还款加起来不超过收入的{AFFORDABLE_SHARE * 100:.0f}%。"
                 "能不能批、批多少，要看系统对收入、负债和征信的综合审批结果，我这里没法提前答复。")
    return Reply("\n".join(lines), (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))


def _burden(share: Decimal, term_given: bool) -> str:
    """The honest reading of the lightest option's share of income (advice on the burden, never on approval)."""
    limit = AFFORDABLE_SHARE * 100
    if share > limit:
        longer = "" if not term_given else "或把期限拉长、"
        return (f"实话说，这个金额的月供占收入的比例偏大，还款压力会比较大；建议少借一些，{longer}"
                "按实际需要来借。")
    if share > limit * Decimal("0.7"):
        return "月供在建议范围内，但已经接近收入的一半，压力不算小，记得给日常开支留足余地。"
    return "月供占收入的比例不高，压力相对可控。"


_AGE_RANGE = re.compile(r"年龄\s*(\d+)\s*[–-]\s*(\d+)")


def age_answer(cat: Catalogue, age: int) -> Reply:
    """The customer's age against each product's age range (one condition of several, never a promise)."""
    items = []
    for p in cat.products:
        m = next((m for m in (_AGE_RANGE.search(c) for c in p.eligibility) if m), None)
        if m is None:
            continue
        low, high = int(m.group(1)), int(m.group(2))
        verdict = "年龄符合" if low <= age <= high else "年龄暂不符合"
        items.append(f"{p.name}：要求{low}–{high}周岁，{verdict}")
    fits = [i for i in items if i.endswith("年龄符合")]
    head = f"按您{age}岁来看：" if fits else f"按您{age}岁来看，很抱歉，目前各产品的年龄要求都还不满足："
    return Reply("\n".join([head, numbered(items),
                            "年龄只是条件之一，能不能批、批多少，要看系统对收入、负债和征信的综合审批结果。"]),
                 (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))


# -------------------------------------------------- questions answered first

def payout_time_answer(cat: Catalogue, product_code: Optional[str]) -> Reply:
    """How long approval and payout take, per product (or the one the customer named), before anything is asked."""
    product = cat.find_product(product_code or "")
    review = cat.stage("reviewing").expected_time
    payouts = [product] if product else list(cat.products)
    lines = [f"审批{review}；审批通过、签约后放款：",
             numbered([f"{p.name}：{p.disbursement}" for p in payouts]) if len(payouts) > 1
             else payouts[0].disbursement,
             "审批没有加急通道，资料一次填准确完整是最快的办法；放款前我们不收任何费用。"]
    return Reply("\n".join(lines), (button("申请条件", "ask_eligibility"), button("查询申请进度", "check_progress")))


def max_amount_answer(cat: Catalogue, product_code: Optional[str]) -> Reply:
    """The amount ranges first (the product named, or each), then how the actual limit is set."""
    product = cat.find_product(product_code or "")
    products = [product] if product else list(cat.products)
    ranges = numbered([f"{p.name}：可借{p.format_amount_range()}，最长{p.term_max}期" for p in products])
    lines = ["可借金额按产品：" if len(products) > 1 else f"{products[0].name}可借{products[0].format_amount_range()}，"
             f"最长{products[0].term_max}期，{format_apr_range(products[0])}。"]
    if len(products) > 1:
        lines.append(ranges)
    lines.append(cat.limits.assessed_by)
    lines.append("告诉我借款用途和大概金额，我帮您看看哪款更合适。")
    return Reply("\n".join(lines), (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))


def min_amount_answer(cat: Catalogue, product_code: Optional[str]) -> Reply:
    """"最少借多少": the lowest amount first (of the product named or fitting the purpose, or of each)."""
    product = cat.find_product(product_code or "")
    if product is not None:
        head = (f"{product.name}最少{int(product.amount_min):,}元起借，最多可借{int(product.amount_max):,}元，"
                f"按{int(product.amount_step):,}元递增。")
    else:
        head = "最少能借多少看产品：\n" + numbered(
            [f"{p.name}：{int(p.amount_min):,}元起借（最多{int(p.amount_max):,}元）" for p in cat.products])
    return Reply("\n".join([head, cat.limits.assessed_by]),
                 (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))


def product_topic_answer(cat: Catalogue, product_code: str, topic: Optional[str]) -> Optional[Reply]:
    """A bare product name after a rules answer: that answer for the product (None: the rate answer applies)."""
    product = cat.find_product(product_code)
    if product is None:
        return None
    if topic == "prepayment":
        return product_prepayment_answer(cat, product.code)
    if topic == "eligibility":
        # the product's own conditions with what every applicant brings (ID card, own debit card) and its own papers
        materials = [*cat.eligibility.materials, *product.materials]
        general = [c for c in cat.eligibility.conditions if "年龄" not in c]  # the product states its own ages
        needs = [*product.eligibility, *general, f"需要准备：{'、'.join(materials)}"]
        body = numbered(needs or list(cat.eligibility.conditions))
        return Reply(f"{product.name}（{product.category}）的申请要求：\n{body}\n"
                     "是否能通过、额度多少，以系统审批结果为准。")
    if topic == "limit":
        return max_amount_answer(cat, product.code)
    if topic == "terms":
        return longest_term_answer(cat, product.code, None)
    if topic == "repayment":
        methods = "、".join(cat.method_name(m) for m in product.repayment_methods)
        return Reply(f"{product.name}可选的还款方式：{methods}；期限{product.format_terms()}。"
                     "每期从绑定的银行卡自动扣款，还款日当天24:00前还上都不算逾期。")
    return None


def repaid_payoff_line(cat: Catalogue, example: Example, periods: int) -> Optional[str]:
    """After ``periods`` instalments of the customer's own loan figures: what settling now would take."""
    product = cat.product(example.product)
    if not 0 < periods < example.term:
        return None
    schedule = build_schedule(example.amount, product.apr_min, example.term, example.method)
    quote = prepayment_quote(schedule, periods, product=product, loan_age_months=periods)
    fee = "免手续费" if quote.fee == 0 else f"手续费约{format_yuan(quote.fee)}"
    return (f"按{product.name}借{wan(example.amount)}、分{example.term}期、最低{format_apr(product.apr_min)}估算，"
            f"还满{periods}期后一次结清：剩余本金约{format_yuan(quote.principal_repaid)}，{fee}，"
            f"另加结清当天之前的利息。实际以APP「提前还款」页面为准。")


def capacity_answer(cat: Catalogue, income: int, monthly_debt: Optional[int], product_code: Optional[str]) -> Reply:
    """Income and existing repayments: the room left under the advised share, and what it would carry — advice."""
    product = _product(cat, product_code)
    room = Decimal(income) * AFFORDABLE_SHARE - Decimal(monthly_debt or 0)
    debts = f"、每月已有还款{monthly_debt:,}元" if monthly_debt else ""
    head = f"按您月收入{income:,}元{debts}估算："
    if room <= 0:
        return Reply(head + f"现有还款已经超过收入的{AFFORDABLE_SHARE * 100:.0f}%，不建议再增加借款；"
                     "如果还款有压力，可以先联系我们了解协商还款。")
    items = []
    for term in [t for t in (12, 24, 36) if product.supports_term(t)]:
        unit = build_schedule(10_000, product.apr_min, term, product.example_method).first_payment
        amount = int(room / unit * 10_000 // 1_000 * 1_000)
        amount = min(amount, int(product.amount_max))
        if amount >= product.amount_min:
            items.append(f"分{term}期：每月还款控制在{format_yuan(room)}以内，大约对应借{wan(amount)}")
    lines = [head, f"一般建议每月所有还款不超过收入的{AFFORDABLE_SHARE * 100:.0f}%，"
             f"也就是新增月供最好在{format_yuan(room)}以内（按{product.name}最低{format_apr(product.apr_min)}算）：",
             numbered(items) if items else "",
             "这只是帮您量力而行的参考；实际额度由系统按收入、负债和征信综合评估，我这里没法提前答复。"]
    return Reply("\n".join(line for line in lines if line),
                 (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))
