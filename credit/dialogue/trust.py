"""Honest answers to trust questions, closings, detours inside forms and a complaint restated neutrally.

Texts built from the catalogue (rates, the legal cap, the overdue and collection rules, the hotline); nothing here
promises an outcome or hides a fee."""
from __future__ import annotations

import re
from typing import Optional

from credit.catalogue.loader import Catalogue, format_apr_range, format_percent
from credit.replies import Reply, button, numbered
from credit.tickets.categories import LABELS


def usury_answer(cat: Catalogue) -> Reply:
    """高利贷: our APR range, the legal limits, and what sets a licensed lender apart."""
    cap = format_percent(cat.legal_cap_apr)
    ranges = "；".join(f"{p.name}{format_apr_range(p)}" for p in cat.products)
    lines = ["理解您的担心，给您说清楚区别：",
             numbered([f"利率：{ranges}，都已包含全部费用，全部在{cap}的司法保护上限以内；逾期罚息折算后也不超过年化{cap}。",
                       "我们是持牌机构，利率按年化利率(单利)明示在合同里，放款前不收任何费用，没有“砍头息”。",
                       "高利贷往往利率超过法定上限、先扣钱再放款、暴力催收——这些我们都不做，也不允许。"]),
             "您的实际利率以审批结果为准，签约前可以先看清合同再决定。"]
    return Reply("\n".join(lines), (button("利率是多少", "ask_interest_rate"), button("转人工客服", "request_human")))


def third_party_answer(cat: Catalogue) -> Reply:
    """Never contacting third parties about a debt (the outreach rules), and what to do when it is hard to pay."""
    rules = cat.overdue.collection_rules
    lines = ["不会。关于您的借款，我们只联系您本人：",
             numbered([*rules, "您的借款信息不会告诉家人、朋友、同事或单位，也不会读取您的通讯录。"]),
             cat.overdue.advice]
    return Reply("\n".join(lines), (button("申请协商还款", "ask_overdue"), button("转人工客服", "request_human")))


def credit_repair_answer(cat: Catalogue) -> Reply:
    """Nobody can delete a true credit record; paid 征信修复 is a scam; what really helps."""
    o = cat.overdue
    lines = ["实话告诉您：真实发生的逾期记录，任何人都无法删除，包括我们；花钱“修复”也不可能做到。",
             numbered([f"逾期超过{o.credit_report_after_days}天的记录会如实报送征信，还清后会更新为已结清，按规定保留。",
                       "声称花钱就能“征信修复”“洗白征信”“删除逾期记录”的，都是骗局，请不要付钱，也不要提供身份证、验证码。",
                       "如果记录确实有错（比如不是您的借款），可以向我们或征信中心提出异议申请，免费办理。",
                       "按时还款、保持良好记录，是让信用慢慢恢复的办法。"]),
             f"有疑问可以拨打官方客服热线{cat.hotline.number}核实。"]
    return Reply("\n".join(lines), (button("逾期与征信规则", "ask_overdue"), button("转人工客服", "request_human")))


def scammed_answer(cat: Catalogue, amount: Optional[int] = None) -> Reply:
    """Money already paid to a scammer: what to do now, first, each point once; with the sum they said, a first line
    on it (so a second telling is answered on its facts, not with "already said")."""
    lead = "先别着急，请马上按这几步做："
    if amount:
        lead = (f"您转出的{amount:,}元要争取尽快追回：这是冒充我们的诈骗，我们放款前不收任何费用。"
                "请马上按这几步做：")
    return Reply(lead + "\n" + numbered([
        "立即拨打110报警，或拨打96110反诈专线；",
        "马上联系转出的银行或支付平台，说明被骗，请他们止付、冻结对方账户；",
        "保留好聊天记录、转账凭证和对方的账号、电话，不要删除；",
        "不要再向对方转任何钱，也不要透露短信验证码和密码——“交钱退款”“解冻”都是二次诈骗。"])
        + "\n我们放款前不收任何费用，也从不要求转账到个人账户；"
        + f"官方客服热线只有{cat.hotline.number}。需要的话我可以帮您转人工，一起核实。",
        (button("转人工客服", "request_human"),))


def legitimacy_answer(cat: Catalogue) -> Reply:
    """"你们正规吗": what can be checked, not a claim to trust."""
    cap = format_percent(cat.legal_cap_apr)
    return Reply("理解您的顾虑，您谨慎是对的，这些都可以核实：\n" + numbered([
        f"我们是{cat.company}，所有利率按年化利率(单利)写进合同，都在{cap}的上限以内，签约前可以先看清楚。",
        "放款前不收任何费用；凡是要求先交钱、转账到个人账户的，都不是我们。",
        f"官方客服热线只有{cat.hotline.number}，也可以在官方APP里联系在线客服核实。"]),
        (button("利率是多少", "ask_interest_rate"), button("转人工客服", "request_human")))


def data_safety_answer(cat: Catalogue) -> Reply:
    return Reply("您的信息我们会保护好：\n" + numbered([
        "只收集办理业务必需的信息，加密保存，仅用于您的申请、借款和客户服务；",
        "不会出售或提供给无关的第三方，也不会向您的家人、朋友或单位透露您的借款情况；",
        "核实身份时只需要证件或手机号后4位，不会向您索要密码或短信验证码以外的信息。"])
        + "\n想看完整的隐私说明，回复“隐私”即可。")


def why_verify_answer() -> Reply:
    return Reply("核实身份是为了保护您的信息和资金安全：确认是本人，才能告诉您申请和借款的情况。"
                 "查询只需要申请编号和身份证后4位；取消、结清这类操作再加一条短信验证码。信息加密保存，仅用于本次服务。")


def otp_resent_answer(phone_last4: str) -> Reply:
    return Reply(f"已经重新给尾号{phone_last4}的手机发了验证码，短信偶尔会晚一两分钟，请留意一下。"
                 "如果手机号已经不用了，可以告诉我，我帮您转人工处理。")


def closing_answer(cat: Catalogue) -> Reply:
    """A warm close that says how to come back (not a cancellation)."""
    h = cat.hotline
    return Reply(f"好的，不着急，您慢慢考虑。想好了随时回来找我，直接在这里留言就行；也可以拨打官方客服热线{h.number}"
                 f"（{h.hours}）。祝您一切顺利！")


def hotline_answer(cat: Catalogue) -> Reply:
    h = cat.hotline
    return Reply(f"官方客服热线：{h.number}，服务时间{h.hours}。\n也可以在{h.online}。\n{h.note}")


def lost_application_id_answer() -> Reply:
    """Where to find the number, and the alternative: the registered mobile's and the ID's last 4 digits."""
    return Reply("没关系，申请编号可以这样找：\n" + numbered([
        "申请时收到的短信里有申请编号（SQ开头加12位数字）；",
        "打开APP，在「我的申请」里可以看到每笔申请的编号和状态。"])
        + "\n找不到也可以：告诉我注册手机号的后4位和身份证号的后4位，我帮您核实后查询（连续输错会暂时锁定）。")


def how_to_apply_answer(cat: Catalogue) -> Reply:
    """How to apply, step by step, before any discovery question."""
    review = cat.stage("reviewing").expected_time
    return Reply("申请很简单，全程在官方APP里完成：\n" + numbered([
        "打开APP首页，选择适合的产品，点击「立即申请」；",
        "按提示实名认证，填写收入、联系方式等信息，上传需要的材料；",
        f"提交后系统审批，{review}，结果会短信通知；",
        "审批通过后在APP确认额度和年化利率、签约，签约后放款到您本人名下的银行卡。"])
        + "\n申请和放款前都不收任何费用。方便说说借款用途和大概金额吗？我帮您看看哪款更合适。",
        (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))


def wait_answer() -> Reply:
    return Reply("好的，不着急，您慢慢找。找到了直接发给我就行。")


def not_applied_answer() -> Reply:
    return Reply("好的，还没申请就不用查进度了。在APP首页选择产品即可申请，资料填完整，审批一般1个工作日内出结果。"
                 "利率、条件、材料有什么想了解的，直接问我就行。")


def progress_next_answer(stage_label: str, next_step: str, expected: str) -> Reply:
    """What the customer does next at the stage their application is in."""
    lines = [f"您的申请现在是「{stage_label}」。接下来：{next_step}"]
    if expected and expected != "已完成":
        lines.append(f"预计时间：{expected}。")
    return Reply("\n".join(lines), (button("还有其他问题", "greet"), button("转人工客服", "request_human")))


def impatience_answer(stage_name: str, expected: str, reviewing: bool) -> Reply:
    """A progress answer already given, and the customer is impatient: acknowledge, the honest timing, what helps."""
    # "一般 1 个工作日内出结果（预计…前）" already says when; a bare time gets its "预计"
    when = expected if expected.startswith(("预计", "一般")) else f"预计{expected}"
    lines = [f"理解您着急。您的申请目前还在「{stage_name}」，{when}。",
             "审批没有加急通道，我这边没法替您催快；保持手机畅通、按短信提示及时补充资料，是最快的办法。"
             if reviewing else "这一步按流程进行，结果出来后会第一时间短信通知您。",
             "超过预计时间还没有结果的话，可以再来找我，我帮您登记催办。"]
    return Reply("\n".join(lines), (button("转人工客服", "request_human"),))


def reapply_answer(cat: Catalogue) -> Reply:
    stage = cat.stage("rejected")
    return Reply(f"可以的。{stage.next_step}\n重新申请前，可以先把负债降一降、资料填准确完整，这些都会纳入综合评估；"
                 "能否通过以当次审批结果为准。")


def form_note_answer(note: str) -> str:
    return f"{note}我已补充到记录里。"


# ---------------------------------------------------------- complaints

_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:万|千|元|块)|[一二两三四五六七八九十百千万]+\s*(?:块|元)")
# how often (a fact, in neutral words): "一天打十几个电话" "每天发好几条短信"
_HOW_OFTEN = re.compile(r"(?:一天|每天|天天|一周|每周|一个月)(?:[打发来催]|给我打|给我发)?[了]?"
                        r"[一二两三四五六七八九十几百多好\d]+[个次通条遍]?(?:电话|短信|次)")
_WHEN = re.compile(r"今天|昨天|前天|上周|上个月|这个月|这周|刚才|\d+\s*(?:天|号|日|个月|周)")
# what a complaint is about, in neutral words (never the customer's own wording)
_ISSUES = (
    (r"重复扣|扣了两次|扣了2次|多扣|扣多了", "重复或多扣款"),
    (r"乱扣|扣款|扣钱|扣费|扣了", "扣款"),
    (r"手续费|服务费|乱收费|收费|会员费|保险", "收费"),
    (r"罚息|违约金|滞纳金", "罚息"),
    (r"利息|利率", "利息"),
    (r"催收|催款|催债|催还", "催收方式"),
    (r"骚扰|一直打|天天打|总打|打电话|打给", "来电打扰"),
    (r"态度|不耐烦|骂|凶|敷衍", "服务态度"),
    (r"审批|审核|放款|到账|下款|太慢|等了", "审批放款进度"),
    (r"[Aa][Pp][Pp]|闪退|登录|登不上|打不开|卡顿|系统", "APP使用"),
    (r"额度|降额|冻结", "额度"),
    (r"短信", "短信"),
    (r"征信", "征信记录"),
    (r"提前还款|结清", "提前还款或结清"),
    (r"客服|人工|机器人", "客服服务"),
)


def complaint_paraphrase(category: Optional[str], detail: Optional[str]) -> str:
    """复述确认 as a neutral paraphrase: the category and the facts (what about, an amount, when), never the
    customer's words (no insult echoed, no personal data)."""
    words = (detail or "").strip()
    if not words:
        return ""
    issues = [name for pattern, name in _ISSUES if re.search(pattern, words)]
    label = LABELS.get(category or "")
    if label:  # the category first; an issue it already says is not said again
        issues = [label, *[i for i in issues if i not in label]]
    about = "、".join(dict.fromkeys(issues[:3])) or "我们的服务"
    facts = []
    when = _WHEN.search(words)
    amount = _AMOUNT.search(words)
    often = _HOW_OFTEN.search(words)
    if often:
        facts.append(often.group(0))
    if when and not (often and when.group(0) in often.group(0)):
        facts.append(f"时间是{when.group(0)}")
    if amount:
        facts.append(f"涉及金额{amount.group(0)}")
    extra = ("，" + "，".join(facts)) if facts else ""
    return (f"我先跟您确认一下投诉内容：您反映的是{about}方面的问题{extra}，对吗？"
            "具体经过我会完整记录下来，交给专人处理。")
