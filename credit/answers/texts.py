"""Customer-facing answers composed from the catalogue, the calculators and service views.

Plain Python, no Rasa: the actions call these and send the text, so every figure a
customer sees comes from credit/catalogue.yml and credit/calculators.py, and the
compliance test can run every answer through the checker for many inputs.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from dateutil.relativedelta import relativedelta

from credit.calculators import build_schedule, format_yuan, payment_range, prepayment_quote
from credit.catalogue.contact import BEIJING
from credit.catalogue.loader import Catalogue, Product, format_apr, format_apr_range, format_percent
from credit.catalogue.products import SUPPORTED_METHODS
from credit.catalogue.risk_signals import Finding
from credit.compliance import RATE_DISCLAIMER, RATE_DISCLAIMER_VOICE
from credit.replies import DEFAULT_EXAMPLE_AMOUNT, DEFAULT_EXAMPLE_TERM, Reply
from credit.replies import button as _button
from credit.replies import numbered as _numbered
from credit.replies import wan as _wan
from credit.text.masking import mask_pii
from credit.views import CancelResult, LoanView, ProgressView, SettlementResult, TicketView

# --------------------------------------------------------------------- rates

def rate_answer(cat: Catalogue, product_code: Optional[str], amount: Optional[int], term: Optional[int],
                voice: bool = False) -> Reply:
    """Annualised range, a worked example on the customer's own figures, and the disclaimer.

    `voice=True` gives the short form for the phone: one product, one example, short disclaimer."""
    product = cat.find_product(product_code or "")
    if voice:
        return _rate_answer_voice(cat, product or cat.product(cat.demo_loan.product), amount, term)
    if product is None:
        ranges = ("我们所有产品的利率都按年化利率(单利)展示，已包含利息和全部费用：\n"
                  + _numbered([f"{p.name}：{format_apr_range(p)}，期限{p.format_terms()}" for p in cat.products]))
        example_product = cat.product(cat.demo_loan.product)
    else:
        ranges = (f"{product.name}的{format_apr_range(product)}，已包含利息和全部费用，"
                  f"可借{product.format_amount_range()}，期限{product.format_terms()}。")
        example_product = product
    own_figures = amount is not None or term is not None
    example = _worked_example(example_product, amount or DEFAULT_EXAMPLE_AMOUNT,
                              term or DEFAULT_EXAMPLE_TERM, own_figures)
    # the customer's own figures answer the question, so they come first
    lines = [example, ranges] if own_figures else [ranges, example]
    lines.append("您的实际利率以审批结果为准，签约前会在合同中明确展示，确认后才生效。")
    if not own_figures:
        lines.append("告诉我您想借多少、分几期，我可以按您的情况帮您算一算。")
    lines.append(RATE_DISCLAIMER)
    return Reply("\n".join(lines), (_button("了解提前还款", "ask_prepayment"),
                                    _button("查询申请进度", "check_progress"),
                                    _button("转人工客服", "request_human")))


def _rate_answer_voice(cat: Catalogue, product: Product, amount: Optional[int], term: Optional[int]) -> Reply:
    amount, term = amount or DEFAULT_EXAMPLE_AMOUNT, term or DEFAULT_EXAMPLE_TERM
    text = f"{product.name}的{format_apr_range(product)}。"
    if product.amount_in_range(amount) and product.supports_term(term):
        low, high = payment_range(product, amount, term, product.example_method)
        text += (f"按借{_wan(amount)}、分{term}期算，每月大约还{low.first_payment:.0f}元到{high.first_payment:.0f}元。")
    text += RATE_DISCLAIMER_VOICE
    return Reply(text, (_button("查询申请进度", "check_progress"), _button("转人工客服", "request_human")))


def _worked_example(product: Product, amount: int, term: int, own_figures: bool) -> str:
    method = product.example_method
    method_name = SUPPORTED_METHODS[method]
    if not product.amount_in_range(amount):
        return (f"{product.name}的可借金额为{product.format_amount_range()}，{_wan(amount)}不在范围内，"
                "您可以调整金额后再算。")
    if not product.supports_term(term):
        return f"{product.name}可选期限为{product.format_terms()}，暂不支持{term}期，您可以换个期数再算。"
    low, high = payment_range(product, amount, term, method)
    head = "按您" if own_figures else "举个例子，"
    return (f"{head}借{_wan(amount)}、分{term}期、{method_name}还款（{product.name}）计算：\n"
            f"· 按最低{format_apr(product.apr_min)}：每月还{format_yuan(low.first_payment)}，"
            f"总利息{format_yuan(low.total_interest)}\n"
            f"· 按最高{format_apr(product.apr_max)}：每月还{format_yuan(high.first_payment)}，"
            f"总利息{format_yuan(high.total_interest)}")


# ---------------------------------------------------------------- prepayment

def prepayment_answer(cat: Catalogue, product_code: Optional[str], amount: Optional[int],
                      term: Optional[int]) -> Reply:
    """Rules by product, how to apply, and a calculation when the customer gave figures."""
    product = cat.find_product(product_code or "")
    products = [product] if product else list(cat.products)
    lines = ["提前还款可以全部结清，也可以部分还款，规则是这样的："]
    lines.append(_numbered([
        "手续费：" + "".join(f"\n   · {p.name}：{p.prepayment.description}" for p in products),
        "利息：" + cat.prepayment.interest_rule,
        "部分还款：" + cat.prepayment.partial_rule,
    ]))
    lines.append("办理步骤：\n" + _numbered(cat.prepayment.how_to))
    if amount and term:
        lines.append(_prepayment_example(product or cat.product(cat.demo_loan.product), amount, term))
    lines.append("如果您已经有借款，我可以在核实身份后按您的实际借款帮您试算，需要吗？")
    return Reply("\n".join(lines), (_button("好的，帮我试算", "affirm"), _button("不用了", "deny")))


def _prepayment_example(product: Product, amount: int, term: int) -> str:
    if not (product.amount_in_range(amount) and product.supports_term(term)) or term < 4:
        return ""
    rate = product.apr_min
    schedule = build_schedule(amount, rate, term, product.repayment_methods[0])
    paid = 2
    quote = prepayment_quote(schedule, paid, product=product)
    return (f"举例：{product.name}借{_wan(amount)}分{term}期、按{format_apr(rate)}计算，还满{paid}期后全部结清，"
            f"需还剩余本金{format_yuan(quote.principal_repaid)}、手续费{format_yuan(quote.fee)}，"
            f"比按期还完少付利息{format_yuan(quote.interest_saved)}。")


def loan_prepayment_answer(cat: Catalogue, loan: LoanView) -> Reply:
    product = cat.product(loan.product)
    schedule = build_schedule(loan.principal, loan.annual_rate, loan.term_months, loan.method)
    if loan.paid_periods >= loan.term_months:
        return Reply("这笔借款已经全部还清，无需提前还款。需要开具结清证明的话告诉我就行。")
    days = _days_since(loan)
    quote = prepayment_quote(schedule, loan.paid_periods, product=product,
                             loan_age_months=loan.paid_periods, days_since_last_due=days)
    lines = [
        f"按您的借款（{loan.application_id}，{product.name}，{format_apr(loan.annual_rate)}）今天全部结清试算：",
        _numbered([
            f"剩余本金：{format_yuan(quote.principal_repaid)}",
            f"利息（计算到今天，共{days}天）：{format_yuan(quote.interest_to_date)}",
            f"提前还款手续费：{format_yuan(quote.fee)}（{product.prepayment.description}）",
            f"今天需还合计：{format_yuan(quote.total_now)}",
            f"与按期还完相比，少付利息{format_yuan(quote.interest_saved)}，扣除手续费后净省{format_yuan(quote.net_saving)}",
        ]),
        "实际金额以APP提前还款页面显示为准。办理路径：APP「我的借款」-「提前还款」。",
    ]
    return Reply("\n".join(lines))


def _days_since(loan: LoanView, today: Optional[date] = None) -> int:
    """Days since the last paid due date (or disbursement): interest accrues from there."""
    today = today or date.today()
    if loan.paid_periods and loan.next_due_date:
        start = loan.next_due_date - relativedelta(months=1)
    else:
        start = loan.disbursed_at.date()
    return max(0, min((today - start).days, 31))


# ------------------------------------------------------------------- progress

def progress_answer(view: ProgressView) -> Reply:
    lines = [
        f"已为您查到申请 {view.application_id}（{view.product_name}）：",
        _numbered([
            f"当前状态：{view.stage_label}。{view.description}",
            f"下一步：{view.next_step}",
            f"预计时间：{view.expected}",
        ]),
    ]
    if view.stage in ("reviewing", "submitted"):
        lines.append("审批期间请保持手机畅通，我们不会以任何理由要求您先交费用。")
    buttons: tuple[dict[str, str], ...] = (_button("还有其他问题", "greet"), _button("转人工客服", "request_human"))
    if view.stage == "disbursed":
        buttons = (_button("查看待还金额", "ask_repayment"), _button("了解提前还款", "ask_prepayment"))
    return Reply("\n".join(lines), buttons)


# ---------------------------------------------------------------- loan views

def loan_operation_intro(cat: Catalogue, operation: str) -> str:
    what = {"cancel": "取消申请", "settlement": "开具结清证明", "prepay_calc": "按您的借款试算提前还款",
            "details": "查询您的借款和待还金额"}.get(operation, "办理借款业务")
    return f"好的，我来帮您{what}。为保护您的资金安全，需要先核实身份，再做一次短信验证。"


def loan_details_answer(cat: Catalogue, loan: LoanView) -> Reply:
    lines = [
        f"您的借款 {loan.application_id}（{loan.product_name}）：",
        _numbered([
            f"借款本金{format_yuan(loan.principal)}，{format_apr(loan.annual_rate)}，"
            f"{loan.term_months}期{loan.method_label}",
            f"已还{loan.paid_periods}期，剩余本金{format_yuan(loan.outstanding_principal)}",
            (f"下一期还款日{loan.next_due_date:%Y年%m月%d日}，应还{format_yuan(loan.next_due_amount)}"
             if loan.next_due_date and loan.next_due_amount is not None else "已无待还款项"),
        ]),
        cat.repayment.auto_debit,
    ]
    return Reply("\n".join(lines), (_button("了解提前还款", "ask_prepayment"), _button("转人工客服", "request_human")))


def cancel_answer(cat: Catalogue, result: CancelResult) -> Reply:
    text = result.message
    if result.suggestion:
        text += "\n" + result.suggestion
    return Reply(text)


def settlement_answer(cat: Catalogue, result: SettlementResult) -> Reply:
    lines = [result.message]
    if result.ticket is not None:
        lines.append(f"{cat.settlement_certificate.delivery}费用：{cat.settlement_certificate.fee}。")
    return Reply("\n".join(lines))


# -------------------------------------------------------------------- topics

def topic_answer(cat: Catalogue, intent: str, text: str = "") -> Reply:
    builder = _TOPICS.get(intent)
    if builder is None:
        return Reply("请问您具体想了解哪方面？可以说利率、还款、额度、进度等。")
    return builder(cat, text)


def _repayment(cat: Catalogue, text: str) -> Reply:
    r = cat.repayment
    body = "关于还款，主要有这几点：\n" + _numbered([
        "还款日：" + r.due_day_rule,
        "自动扣款：" + r.auto_debit,
        "还款方式：" + "、".join(r.channels),
        "修改还款日：" + r.change_due_day,
        "节假日：" + r.holiday_rule,
    ]) + "\n" + r.notes + "\n需要我帮您查一下您名下借款的下期应还金额吗？（需核实身份）"
    return Reply(body, (_button("好的，帮我查", "affirm"), _button("不用了", "deny")))


def _overdue(cat: Catalogue, text: str) -> Reply:
    o = cat.overdue
    body = ("理解您现在可能遇到了困难，我把规则如实告诉您：\n" + _numbered(list(o.rules)) + "\n" + o.advice
            + "\n我可以为您登记协商还款工单，由专员和您一起商量可行的方案；也可以直接转人工客服。需要为您登记吗？")
    return Reply(body, (_button("登记协商还款", "affirm"), _button("转人工客服", "request_human")))


def _limit(cat: Catalogue, text: str) -> Reply:
    li = cat.limits
    body = "关于额度：\n" + _numbered([li.assessed_by, li.how_to_check, li.revolving_note, li.increase,
                                        li.decrease, li.frozen])
    return Reply(body)


def _eligibility(cat: Catalogue, text: str) -> Reply:
    e = cat.eligibility
    extra = [f"申请{p.name}还需要：" + "、".join(p.materials) for p in cat.products if p.materials]
    body = ("申请条件：\n" + _numbered(list(e.conditions)) + "\n需要准备：\n" + _numbered([*e.materials, *extra])
            + "\n" + e.notes + "\n是否能通过以及最终额度、利率，都以系统审批结果为准。"
            + "\n告诉我借款用途和大概金额，我帮您看看哪款产品更合适。")
    return Reply(body, (_button("利率是多少", "ask_interest_rate"), _button("查询申请进度", "check_progress")))


ACCOUNT_KEYWORDS = {
    "change_phone": ("手机", "号码", "换号"),
    "change_bank_card": ("银行卡", "卡", "换卡"),
    "reset_password": ("密码", "登录", "登陆", "登不上"),
    "close_account": ("注销", "销户"),
    "update_info": ("信息", "身份证过期", "地址", "单位", "人脸", "认证"),
}


def _account(cat: Catalogue, text: str) -> Reply:
    chosen = [code for code, words in ACCOUNT_KEYWORDS.items() if any(w in text for w in words)]
    procedures = [cat.account_service(code) for code in chosen[:1]] or list(cat.account_services)
    if len(procedures) == 1:
        p = procedures[0]
        body = (f"{p.name}的办理方法：\n" + _numbered(list(p.steps)) + "\n需要：" + "；".join(p.requirements)
                + f"\n{cat.sla(p.sla_kind).note}")
    else:
        body = "账户相关业务都可以在APP自助办理：\n" + _numbered([f"{p.name}：{p.steps[0]}" for p in procedures])
    body += "\n温馨提示：任何人向您索要短信验证码或密码都不要提供。"
    return Reply(body, (_button("转人工客服", "request_human"),))


_TOPICS = {
    "ask_repayment": _repayment,
    "ask_overdue": _overdue,
    "ask_loan_limit": _limit,
    "ask_eligibility": _eligibility,
    "account_service": _account,
}
#: the intents with a catalogue topic answer (topic_answer)
TOPIC_INTENTS = tuple(_TOPICS)


# ---------------------------------------------------------------------- risk

FAST_LANE_SCAM = "任何人承诺“包装资料”“内部渠道快速下款”、或要求先交钱的，都是骗局。"


def urgent_need_answer(cat: Catalogue, fraud_mentioned: bool = False) -> Reply:
    """Reassure about the timing first, honestly (no fast lane); the fraud warning only when the
    customer raised something like it (a lecture to someone who raised none reads as suspicion)."""
    review, payout = cat.stage("reviewing").expected_time, cat.stage("disbursing").expected_time
    points = [
        f"时间上您可以放心：审批{review}，签约后放款{payout}。",
        "审批没有加急通道，利息高低也不影响快慢；资料一次填准确、完整，是最快的办法。",
        "请按实际需要和还款能力借款，月还款额建议不超过月收入的一半。",
    ]
    if fraud_mentioned:
        points.append(FAST_LANE_SCAM)
    body = "理解您着急用钱。给您说说实际情况：\n" + _numbered(points) + "\n如果已经提交了申请，我可以帮您查一下进度。"
    return Reply(body, (_button("查询申请进度", "check_progress"), _button("申请条件", "ask_eligibility")))


def fraud_answer(cat: Catalogue) -> Reply:
    """The fraud warning as one numbered list: each point once (the police number once, the hotline once)."""
    body = ("感谢您提醒，防骗我们一起把关：\n" + _numbered([
        "正规持牌机构放款前不会收取保证金、解冻费、刷流水、验资等任何费用；说“包过”“无视征信”“内部渠道提额”的都是诈骗。",
        "不要向任何个人账户转账，也不要透露短信验证码和银行卡密码。",
        f"我们的官方客服电话只有{cat.hotline.number}，请以官方APP和该号码为准。",
        "如果已经转账，请立即拨打110报警或96110反诈专线，并保留聊天记录和转账凭证。",
    ]) + "\n我已记录您的反馈，需要的话可以为您转接人工客服进一步核实。")
    return Reply(body, (_button("转人工客服", "request_human"),))


def risk_signal_answer(cat: Catalogue, findings: "list[Finding]") -> Reply:
    """Honest, neither a refusal nor a promise; at most one verifying question (the first signal's)."""
    lines = [cat.risk_signals.intro] + [f.signal.reply for f in findings]
    lines.append("最终能否通过、额度多少，以系统综合审批结果为准。")
    lines.append(findings[0].signal.question)
    return Reply("\n".join(lines), (_button("申请条件", "ask_eligibility"), _button("利率是多少", "ask_interest_rate")))


# ------------------------------------------------------------------- tickets

def ticket_answer(cat: Catalogue, ticket: TicketView, contact: Optional[str] = None) -> Reply:
    """The ticket's number and deadline; a call-back is promised only when there is a number to call:
    one the customer gave, or the registered one of a verified application."""
    sla = cat.sla(ticket.kind)
    if contact == "registered" and ticket.application_id:
        how = "我们会通过您申请时预留的手机号联系您，"
    elif contact and contact not in ("registered", "no_call"):
        how = f"我们会通过{mask_pii(contact)}联系您，"
    else:
        how = "处理结果请凭工单号在这里查询，"
    if ticket.kind == "callback":  # made by people: by a stated time, which at night is the next morning
        due = ticket.due_at.astimezone(BEIJING)
        when = f"最晚{due.month}月{due.day}日 {due:%H:%M}（北京时间）前会有专人跟进处理。"
    else:
        when = f"{sla.reply_hours}小时内会有专人跟进处理。{sla.note}"
    body = f"已为您登记{sla.name}工单，工单号 {ticket.number}。\n{how}{when}\n您可以随时凭工单号查询处理进度。"
    return Reply(body)


def handoff_message(cat: Catalogue, now: Optional[datetime] = None, can_call_back: bool = False) -> str:
    """Within the agents' hours: the transfer; outside: when they are back, and nothing promised
    that nobody is there to keep (the hand-off waits in the agents' queue, ops/inbox).  With
    ``can_call_back`` (a verified customer, whose registered phone we hold in full) a call-back ticket is
    offered; other customers are told when agents are back and that their question waits in the queue."""
    h = cat.hotline
    if now is None or h.is_open(now):
        return f"正在为您转接人工客服，请稍候。人工服务时间：{h.hours}；您也可以拨打官方客服热线{h.number}。"
    text = (f"现在是人工客服的休息时间（服务时间{h.hours}），{h.back_at(now)}上班。"
            "您的问题和刚才的对话已经转入人工队列，上班后人工客服会接着处理，您不用再重复描述。")
    if can_call_back:
        text += "如果希望上班后由人工客服打电话给您，回复“好的”，我为您登记回电（打到您申请时预留的手机号）。"
    return text + "在这之前，我可以继续为您解答利率、还款、进度等问题；如果遇到被骗转账，请立即拨打110。"


__all__ = [
    "TOPIC_INTENTS",
    "Reply", "rate_answer", "prepayment_answer", "loan_prepayment_answer",
    "progress_answer", "loan_operation_intro", "loan_details_answer", "cancel_answer", "settlement_answer",
    "topic_answer", "urgent_need_answer", "fraud_answer",
    "risk_signal_answer", "ticket_answer", "handoff_message", "format_percent",
]
