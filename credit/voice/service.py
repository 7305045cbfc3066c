"""Voice forms of the service answers: an application's progress, the customer's own loan and its pay-off today,
the hand-off, the fraud warning and the honest answer to a risk signal.  Figures come from the service views;
the application number is read back digit by digit so the caller knows which one was found."""
from __future__ import annotations

from datetime import datetime
from typing import Optional, Sequence

from credit.answers.texts import _days_since
from credit.calculators import build_schedule, format_yuan, prepayment_quote
from credit.catalogue.loader import Catalogue, format_apr
from credit.catalogue.risk_signals import Finding
from credit.compliance import FRAUD_WARNING_VOICE
from credit.views import LoanView, ProgressView
from credit.voice.generic import sentence_points
from credit.voice.rules import as_sentence
from credit.voice.turns import Choice, Point, VoiceForm

_AFFIRM = "/affirm"
AGENT = Choice("转人工客服", "/request_human", "0")


def progress(cat: Catalogue, view: ProgressView) -> VoiceForm:
    points = [
        Point("status", "", f"已为您查到申请{view.application_id}，{view.product_name}，目前{view.stage_label}。"
              f"{view.description}{as_sentence(view.expected)}"),
        Point("next", "下一步怎么做", f"下一步：{as_sentence(view.next_step)}", ("下一步", "怎么办", "要做什么")),
    ]
    if view.stage in ("reviewing", "submitted"):
        points.append(Point("no_fee", "审批期间要注意什么",
                            "审批期间请保持手机畅通，我们不会以任何理由要求您先交费用。", ("注意", "收费", "交钱")))
    if view.stage == "disbursed":
        closing = (Choice("查看待还金额", "/ask_repayment", "3"), Choice("了解提前还款", "/ask_prepayment", "4"))
    else:
        closing = (AGENT,)
    return VoiceForm("progress", tuple(points), closing=closing, product=view.product)


def loan_details(cat: Catalogue, loan: LoanView) -> VoiceForm:
    due = (f"下一期还款日是{loan.next_due_date:%Y年%m月%d日}，应还{format_yuan(loan.next_due_amount)}。"
           if loan.next_due_date and loan.next_due_amount is not None else "这笔借款已无待还款项。")
    points = [
        Point("due", "", f"您的借款{loan.application_id}，{loan.product_name}：{due}"),
        Point("loan", "借款本金和利率", f"借款本金{format_yuan(loan.principal)}，{format_apr(loan.annual_rate)}，"
              f"{loan.term_months}期{loan.method_label}。", ("本金", "利率", "期")),
        Point("paid", "已还和剩余本金",
              f"已还{loan.paid_periods}期，剩余本金{format_yuan(loan.outstanding_principal)}。",
              ("已还", "剩余", "还剩")),
        Point("debit", "怎么扣款", as_sentence(cat.repayment.auto_debit), ("扣款", "自动")),
    ]
    closing = (Choice("了解提前还款", "/ask_prepayment", "4"), AGENT)
    return VoiceForm("loan_details", tuple(points), closing=closing, product=loan.product)


def loan_prepayment(cat: Catalogue, loan: LoanView) -> VoiceForm:
    """Paying the customer's own loan off today: the total with its fee first, then what it saves."""
    product = cat.product(loan.product)
    if loan.paid_periods >= loan.term_months:
        return VoiceForm("loan_prepayment", (Point("done", "", "这笔借款已经全部还清，无需提前还款。"
                                                   "需要开具结清证明的话告诉我就行。"),), product=loan.product)
    days = _days_since(loan)
    quote = prepayment_quote(build_schedule(loan.principal, loan.annual_rate, loan.term_months, loan.method),
                             loan.paid_periods, product=product, loan_age_months=loan.paid_periods,
                             days_since_last_due=days)
    points = [
        Point("total", "", f"按您的借款{loan.application_id}今天全部结清，合计要还{format_yuan(quote.total_now)}："
              f"剩余本金{format_yuan(quote.principal_repaid)}，利息{format_yuan(quote.interest_to_date)}，"
              f"提前还款手续费{format_yuan(quote.fee)}。", fee=True),
        Point("saving", "能省多少", f"和按期还完相比，少付利息{format_yuan(quote.interest_saved)}，"
              f"扣除手续费后净省{format_yuan(quote.net_saving)}。", ("省", "划算", "少付")),
        Point("how", "怎么办理", "实际金额以APP提前还款页面显示为准，在APP「我的借款」-「提前还款」办理。",
              ("怎么办", "在哪", "办理")),
    ]
    return VoiceForm("loan_prepayment", tuple(points), closing=(AGENT,), product=loan.product)


def handoff(cat: Catalogue, now: Optional[datetime] = None) -> VoiceForm:
    """Said before the call is put through: short, and nothing to key (the transfer follows)."""
    h = cat.hotline
    if now is None or h.is_open(now):
        text = f"正在为您转接人工客服，请稍候。人工服务时间：{h.hours}。"
    else:
        text = (f"现在是人工客服的休息时间，{h.back_at(now)}上班。您的问题已经转入人工队列，上班后人工客服会接着处理，"
                "不用再重复描述。如果遇到被骗转账，请立即拨打110。")
    return VoiceForm("handoff", (Point("handoff", "", text),))


def fraud(cat: Catalogue) -> VoiceForm:
    points = [
        Point("warning", "", FRAUD_WARNING_VOICE, ("保证金", "解冻", "先交", "刷流水", "验资")),
        Point("transferred", "已经转账了怎么办",
              "如果已经转账，请立即拨打110报警或96110反诈专线，并保留聊天记录和转账凭证。",
              ("转账", "转了", "已经交", "打钱", "被骗", "报警")),
        Point("official", "怎么认准官方客服",
              f"我们的官方客服电话只有{cat.hotline.number}，请以官方APP和这个号码为准。",
              ("官方", "电话", "号码", "真假", "核实", "是不是你们")),
    ]
    closing = (Choice("转人工客服进一步核实", _AFFIRM, "1", True, ("人工", "核实")),)
    return VoiceForm("fraud", tuple(points), closing=closing)


def risk_signals(cat: Catalogue, findings: Sequence[Finding]) -> VoiceForm:
    """The honest answer to the first signal and its one question first; the other signals after."""
    first, *others = findings
    points = [Point("signal0", "", f"{first.signal.reply}能否通过以审批结果为准。{first.signal.question}")]
    points += [Point(f"signal{i}", "", f.signal.reply) for i, f in enumerate(others, 1)]
    closing = (Choice("申请条件", "/ask_eligibility"), Choice("利率是多少", "/ask_interest_rate"))
    return VoiceForm("risk_signal", tuple(points), closing=closing)


def urgent_need(cat: Catalogue, fraud_mentioned: bool, scam_line: str) -> VoiceForm:
    review, payout = cat.stage("reviewing").expected_time, cat.stage("disbursing").expected_time
    text = (f"理解您着急用钱。审批{review}，签约后放款{payout}。审批没有加急通道，资料一次填准确、完整最快。"
            + (scam_line if fraud_mentioned else "") + "请按实际需要和还款能力借款。")
    closing = (Choice("查询申请进度", "/check_progress"), Choice("申请条件", "/ask_eligibility"))
    return VoiceForm("urgent_need", tuple(sentence_points("urgent_need", text)), closing=closing)


__all__ = ["AGENT", "fraud", "handoff", "loan_details", "loan_prepayment", "progress", "risk_signals", "urgent_need"]
