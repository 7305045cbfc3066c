"""Everyday servicing questions answered from the catalogue: the repayment day (on the customer's own
disbursement day), a due day on a holiday, the agents' hours on holidays, a failed automatic debit, a code sent
when none was asked for, a code that did not arrive when none was sent, and what cancelling costs.  Plain Python;
nothing here promises approval or a waiver."""
from __future__ import annotations

from typing import Optional

from credit.catalogue.loader import Catalogue, format_percent
from credit.replies import Reply, button, numbered


def due_day_answer(cat: Catalogue, disbursed_on: Optional[int]) -> Reply:
    """The monthly repayment day: the disbursement day's date, capped at the catalogue's last due day."""
    r = cat.repayment
    if disbursed_on is None or not 1 <= disbursed_on <= 31:
        return Reply(f"{r.due_day_rule}\n具体日期可以在APP「我的借款」的还款计划里看到。\n{r.holiday_rule}")
    day = min(disbursed_on, r.last_due_day)
    why = (f"（放款日是29、30、31日的，还款日统一为每月{r.last_due_day}日，避免小月没有这一天）"
           if disbursed_on > r.last_due_day else "（和放款日的日期相同）")
    return Reply(f"您是{disbursed_on}号放款的，每月还款日就是{day}号{why}。\n"
                 + numbered([r.auto_debit, r.holiday_rule, r.change_due_day]))


def holiday_due_answer(cat: Catalogue) -> Reply:
    """A due day on a public holiday: not postponed; what the grace period does and does not mean."""
    r, o = cat.repayment, cat.overdue
    return Reply("\n".join([
        f"{r.holiday_rule.rstrip('。')}，自动扣款照常进行，建议节前把钱存进绑定的银行卡。",
        numbered([f"万一晚了：还款日后{o.grace_days}天宽限期内还清，不收罚息，也不会作为逾期报送征信；",
                  f"超过{o.grace_days}天仍未还清，从还款日次日起计收罚息；逾期超过{o.credit_report_after_days}天会报送征信；",
                  f"想长期换一天还款：{r.change_due_day}"]),
        o.advice]), (button("申请协商还款", "affirm"), button("转人工客服", "request_human")))


def service_hours_answer(cat: Catalogue) -> Reply:
    """When a person answers: the agents' hours (holidays included) and the channels that are always open."""
    h = cat.hotline
    return Reply(f"人工客服的服务时间是{h.hours}，热线{h.number}。\n"
                 f"服务时间以外也可以在{h.online}；我这个智能客服全天都在，随时可以问我。")


def debit_failed_answer(cat: Catalogue) -> Reply:
    """A failed automatic debit: when it is tried, what happens next and what to do today."""
    r, o = cat.repayment, cat.overdue
    active = next((c for c in r.channels if "主动还款" in c), "APP主动还款")
    return Reply(f"{r.auto_debit}\n扣款没成功的话，可以这样处理：\n" + numbered([
        "先确认绑定的银行卡余额够当期应还，并且卡状态正常（没有挂失、冻结或超出单日限额）；",
        f"当天系统还会再尝试扣款；也可以自己马上还上：{active}；",
        f"还款日后{o.grace_days}天宽限期内还上，不收罚息，也不会作为逾期报送征信。"])
        + "\n如果卡需要换掉，可以在APP「我的-银行卡」添加新卡并设为默认还款卡（还款日当天不能更换）。")


def stray_code_answer(status_line: Optional[str]) -> Reply:
    """A verification code sent when none was asked for: not needed, never to be shared; the thread goes on."""
    lines = ["收到。这一步不需要验证码：查询只要申请编号和身份证后4位，验证码只在取消申请、开结清证明这类操作时才用。",
             "也提醒您：验证码请不要告诉任何人，包括自称客服的人。"]
    if status_line:
        lines.append(status_line)
    return Reply("\n".join(lines))


def otp_not_sent_answer() -> Reply:
    """"验证码没收到" when no code was sent in this conversation: which steps send one, and what to check."""
    return Reply("这次还没有给您发验证码：刚才的查询只核对身份证后4位，不发短信。\n" + numbered([
        "取消申请、开结清证明这类操作才会发验证码，到那一步我会告诉您，收不到可以让我重新发送；",
        "短信偶尔会晚一两分钟，也可以看看是否被手机拦截到了骚扰短信里。"])
        + "\n您现在想办理哪一项？告诉我就行。")


def id_format_answer() -> Reply:
    """"编号是SQ开头那个吗": which number, and where to find it."""
    return Reply("对，申请编号就是SQ开头、后面跟12位数字的那一串，比如SQ202611200001。"
                 "申请时收到的短信里有，APP「我的申请」里也能看到。")


def cancel_terms_answer(cat: Catalogue) -> Reply:
    """What cancelling an application costs and leaves open (asked inside the cancellation)."""
    return Reply(cat.sla("cancellation").note.rstrip("。") + "，也不影响以后再申请："
                 + cat.stage("cancelled").next_step)


def certificate_delivery_answer(cat: Catalogue, paper: bool) -> Reply:
    """How long the settlement certificate takes (the paper copy when that is what was asked), and its fee."""
    c = cat.settlement_certificate
    lead = "需要加盖公章的纸质版也可以开。" if paper else "结清证明是这样出的："
    when = "；".join(c.conditions)  # 借款全部还清、结清次日即可申请
    return Reply(f"{lead}{c.delivery}\n申请条件：{when}。开具结清证明{c.fee}，不收任何费用。")


def penalty_cap_answer(cat: Catalogue) -> Reply:
    """"最高能罚到多少": the penalty rate, its cap, and what it is charged on."""
    o = cat.overdue
    return Reply(f"罚息最高不超过年化{format_percent(o.penalty_apr_max)}：罚息年化利率(单利)是合同年化利率的"
                 f"{o.penalty_multiplier.normalize():f}倍，乘出来超过{format_percent(o.penalty_apr_max)}的也按"
                 f"{format_percent(o.penalty_apr_max)}算；只对逾期本金、按实际逾期天数计收。\n"
                 f"还款日后{o.grace_days}天宽限期内还清不收罚息。")


def collateral_answer(cat: Catalogue, product_code: Optional[str]) -> Reply:
    """"要抵押吗 要不要担保人": none of the products needs collateral; what each needs instead."""
    named = cat.find_product(product_code or "")
    products = [named] if named else list(cat.products)
    lines = [f"{p.name}：{'需要抵押' if p.secured else '信用贷款，不需要抵押，也不用找担保人'}"
             + (f"；需要准备{'、'.join(p.materials)}" if p.materials else "") for p in products]
    return Reply(("不需要抵押，也不用担保人：\n" if not any(p.secured for p in products) else "")
                 + numbered(lines) + "\n审批看的是收入、负债和信用记录，结果以系统综合审批为准。")


def id_unavailable_answer() -> Reply:
    """The ID's digits cannot be given now: nothing is lost, and how to go on later."""
    return Reply("没关系，不着急。等您方便的时候拿到身份证，直接把申请编号和身份证后4位发给我，我接着帮您办；"
                 "之前的记录都在，随时回来都可以。")


def police_answer(cat: Catalogue, paid: bool) -> Reply:
    """"要不要报警" after a fraud warning: yes when money went; reporting is worth it even when none did."""
    if paid:
        return Reply("要，请马上拨打110报警（或96110反诈专线），同时联系转出的银行止付，保留好转账凭证和聊天记录。"
                     f"我们的官方热线只有{cat.hotline.number}。")
    return Reply("没转钱就没有损失，这很好。建议这样做：\n" + numbered([
        "可以拨打96110反诈专线或110反映对方的号码、账号，帮助警方拦截；",
        "把对方的电话、微信或链接拉黑，不要再联系，也不要透露验证码；",
        f"也可以告诉我们：拨打官方热线{cat.hotline.number}，或在这里说“转人工”，我们会登记核查冒充行为。"]))


def collection_hours_line(cat: Catalogue) -> str:
    """The contact rules, for a complaint about calls at the wrong time or to the wrong people."""
    return "按规定，" + cat.overdue.collection_rules[0] + "这次的情况我会写进投诉记录，由专人核查。"
