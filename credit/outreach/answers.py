"""Replies to a customer who answers an outreach notice, about *that* loan and *that* instalment.

Framework-free (the glue is actions/outreach.py).  Facts come from the catalogue (repayment channels,
grace days) and from the instalment as it stands now (:mod:`credit.outreach.context`); nothing here
promises approval of a plan or waives a charge: a customer who cannot pay gets a negotiation ticket
and an honest account of what the contract says.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

from credit.answers.texts import ticket_answer
from credit.catalogue.loader import Catalogue
from credit.outreach.context import NoticeContext
from credit.replies import Reply, button, numbered
from credit.views import TicketView

MENU_REPAYMENT = {"title": "听还款方式", "payload": "/ask_repayment", "key": "1"}
MENU_AGENT = button("转人工", "request_human")


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _yuan(amount: object) -> str:
    return f"{amount:,.2f}元"


def _loan(ctx: NoticeContext) -> str:
    return f"尾号{ctx.subject[-4:]}的借款"


def _overdue_terms(cat: Catalogue, due: date, today: date) -> str:
    """What the contract says on this day of the overdue: the grace period while it lasts, else the penalty
    interest and when the record would be reported."""
    grace, report = cat.overdue.grace_days, cat.overdue.credit_report_after_days
    if (today - due).days <= grace:
        return f"还款日后{grace}天是宽限期，宽限期内还清不收罚息，也不会报送征信。"
    return f"宽限期已过，目前按合同计收罚息；逾期超过{report}天的记录会按规定报送征信。"


def notice_text(cat: Catalogue, ctx: NoticeContext, voice: bool) -> str:
    """The notice as the conversation records it: what the customer read, or on a call the opening
    that says nothing of the loan before the person who answered is verified."""
    rule = cat.outreach.rule(ctx.kind)
    template = (rule.voice or "您好，这里是{company}，有一条关于您借款的提醒，需要先核实身份。") if voice else rule.text
    return template.format(**ctx.fields)


def how_to_repay(cat: Catalogue, ctx: NoticeContext, today: date, voice: bool = False) -> Reply:
    inst = ctx.instalment
    ways = cat.repayment.channels
    if inst is None:
        return Reply("可以这样还款：\n" + numbered(list(ways)) + f"\n{cat.repayment.auto_debit}")
    if inst.paid:
        return Reply(f"您{_loan(ctx)}第{inst.period}期已经还清了，不用再操作，谢谢您！")
    head = f"您{_loan(ctx)}第{inst.period}期应还{_yuan(inst.payment)}，还款日是{_day(inst.due_date)}。"
    if today > inst.due_date:
        late = "已经过了还款日，请尽快在APP「我的借款-主动还款」还上；" + _overdue_terms(cat, inst.due_date, today)
        if voice:
            return Reply(head + late + "如果暂时有困难，可以直接说“还不上了”，我帮您登记协商。")
        return Reply(head + late + "\n如果暂时有困难，回复“还不上了”，我帮您登记协商还款。")
    if voice:
        return Reply(head + "还款日当天会从您绑定的银行卡自动扣款，请提前存入足额资金；"
                            "也可以在APP的“我的借款”里主动还款。")
    return Reply(head + "可以这样还：\n" + numbered([cat.repayment.auto_debit, ways[1]])
                 + "\n还上后可在APP查看还款记录。")


def already_paid(cat: Catalogue, ctx: NoticeContext, today: date) -> Reply:
    """"已经还了": checked against the records, never simply believed nor doubted."""
    inst = ctx.instalment
    if inst is None:
        return Reply("谢谢您告诉我。还款记录可以在APP「我的借款」里查看；如果有对不上的地方，我可以帮您转人工核实。",
                     (MENU_AGENT,))
    if inst.paid:
        when = f"（{_day(inst.last_success)}入账）" if inst.last_success else ""
        return Reply(f"查到了，您{_loan(ctx)}第{inst.period}期已经还清{when}，谢谢您！这条提醒您可以不用再管了。")
    pending = (f"我这边暂时还没查到{_loan(ctx)}第{inst.period}期（{_yuan(inst.payment)}）的入账。"
               "如果刚在APP主动还款，入账可能有几分钟延迟，稍后可在APP「我的借款」查看。")
    if inst.last_failure:
        pending += f"最近一次自动扣款没有成功（{inst.last_failure}），请确认绑定的银行卡余额充足后在APP主动还款。"
    elif today <= inst.due_date:
        pending += f"如果是把钱存进了绑定的银行卡，{_day(inst.due_date)}当天会自动扣款，不用另外操作。"
    return Reply(pending + "\n如果确认钱已经扣走却没有入账，我可以帮您转人工核实。", (MENU_AGENT,))


def cannot_repay(cat: Catalogue, ctx: NoticeContext, ticket: TicketView, today: date,
                 voice: bool = False) -> Reply:
    """"还不上了": understanding first, then the negotiation ticket from the overdue flow, and what the
    contract says meanwhile (no plan is promised: the specialist works it out with the customer)."""
    inst = ctx.instalment
    owed = f"（第{inst.period}期应还{_yuan(inst.payment)}）" if inst is not None and not inst.paid else ""
    if inst is not None and not inst.paid and today > inst.due_date:
        terms = _overdue_terms(cat, inst.due_date, today)
    else:
        terms = f"还款日后{cat.overdue.grace_days}天是宽限期，宽限期内还清不收罚息。"
    lead = f"理解，一时周转不开先别着急，我们一起想办法。您{_loan(ctx)}{owed}的情况我已经记下了。"
    if voice:
        return Reply(lead + f"已为您登记协商还款，工单号{ticket.number}，专员会打您预留的手机号和您商量。" + terms)
    body = ticket_answer(cat, ticket, contact="registered").text
    after = ("在专员联系您之前，能还一部分就先还一部分；" + terms
             + "请认准官方热线，不要相信任何收费“代办延期”的说法。")
    return Reply(f"{lead}\n{body}\n{after}")


def hardship_already_registered(ticket: TicketView) -> Reply:
    """"还不上了" said again: the ticket already registered, in other words than the first time."""
    return Reply(f"明白，您的情况我们已经记下了：协商还款工单{ticket.number}已经登记，"
                 "专员会通过您预留的手机号和您联系，一起商量可行的办法。在那之前如果有新的情况，比如能先还一部分，直接告诉我就好。")


def call_detail(cat: Catalogue, ctx: NoticeContext, today: date) -> Reply:
    """Read out after the person who answered the call proved to be the borrower: the notice's facts,
    then the keypad menu (1 how to repay, 0 an agent)."""
    inst = ctx.instalment
    if inst is None or inst.paid:
        body = f"谢谢您。您{_loan(ctx)}目前没有待还的欠款，这次提醒您可以不用理会。"
        return Reply(body, (MENU_AGENT,))
    if today > inst.due_date:
        days = (today - inst.due_date).days
        state = f"已经过了还款日{days}天，还没有还上。" + _overdue_terms(cat, inst.due_date, today)
    else:
        state = "还没有到还款日，请提前在绑定的银行卡里存入足额资金。"
    body = (f"核实成功，谢谢您。您{_loan(ctx)}第{inst.period}期应还{_yuan(inst.payment)}，"
            f"还款日是{_day(inst.due_date)}，{state}")
    return Reply(body, (MENU_REPAYMENT, MENU_AGENT))


def call_not_verified(cat: Catalogue) -> Reply:
    return Reply(f"抱歉，暂时无法核实您的身份，为保护借款人的信息，电话里就不说明详情了。"
                 f"借款人本人可以登录APP查看，或拨打官方客服热线{cat.hotline.number}。感谢接听，再见。")


def satisfaction_thanks(ticket: str, unhappy: bool) -> Reply:
    if unhappy:
        return Reply(f"很抱歉，工单{ticket}的处理没能让您满意，您的评价已经记下，会转给负责的同事复盘。"
                     "如果问题还没有解决，直接告诉我哪里还不行，我马上帮您重新登记；也可以转人工客服。",
                     (button("问题还没解决", "complain"), MENU_AGENT))
    return Reply(f"谢谢您的评价！工单{ticket}的反馈已经记下了。之后有任何问题，随时找我。")


def reply_subject(ctx: Optional[NoticeContext]) -> Optional[str]:
    """The application a reply is about, when the notice is about one (ticket notices are not)."""
    return ctx.application_id if ctx is not None else None


__all__ = ["already_paid", "call_detail", "call_not_verified", "cannot_repay", "hardship_already_registered",
           "how_to_repay", "notice_text", "reply_subject", "satisfaction_thanks", "MENU_AGENT", "MENU_REPAYMENT"]
