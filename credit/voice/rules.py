"""Voice forms of the rule answers: prepayment, repayment, overdue, conditions and materials, limits, account
services.  Each point is a fact of ``credit/catalogue.yml`` (its own sentence, or a sentence made here from its
figures), said for the ear by the speech gate; the cue words say which question a point answers first."""
from __future__ import annotations

from typing import Optional

from credit.answers.explain import penalty_rule
from credit.answers.texts import ACCOUNT_KEYWORDS
from credit.calculators import build_schedule, format_yuan, prepayment_quote
from credit.catalogue.loader import Catalogue, Product, format_apr
from credit.replies import wan
from credit.voice.turns import Ask, Choice, Point, VoiceForm, product_choice

FEE_CUES = ("手续费", "费用", "收费", "收钱", "要钱", "违约金", "多少钱", "免费", "扣费", "收不收", "要不要钱")
_AFFIRM = "/affirm"


def product_of(cat: Catalogue, ask: Ask) -> Optional[Product]:
    return cat.find_product(ask.product or "") if ask.product else None


def product_choices(cat: Catalogue) -> tuple[Choice, ...]:
    return tuple(product_choice(p.code, p.name, str(i)) for i, p in enumerate(cat.products, 1))


def as_sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？")) else text.rstrip("；;，,") + "。"


def build_form(cat: Catalogue, kind: str, ask: Ask, points: list[Point], product: Optional[Product], **extra: object
          ) -> VoiceForm:
    args = {**ask.as_args(), **({"product": product.code} if product else {})}
    return VoiceForm(kind, tuple(points), lead=ask.lead, product=product.code if product else None,
                     product_choices=product_choices(cat), args=args, **extra)  # type: ignore[arg-type]


# ---------------------------------------------------------------- prepayment

def prepayment(cat: Catalogue, ask: Ask) -> VoiceForm:
    product = product_of(cat, ask)
    fee_text = (f"{product.name}提前还款：{as_sentence(product.prepayment.description)}" if product else "")
    steps = "；".join(s.rstrip("。") for s in cat.prepayment.how_to)
    points = [
        Point("fee", "提前还款的手续费", fee_text, FEE_CUES, fee=True, needs_product=True),
        Point("interest", "提前还款怎么算利息", as_sentence(cat.prepayment.interest_rule),
              ("利息", "怎么算", "计息", "算到", "省多少", "少付")),
        Point("partial", "只还一部分会怎样", as_sentence(cat.prepayment.partial_rule),
              ("部分", "一部分", "还一些", "还一点", "剩下的")),
        Point("how", "怎么办理提前还款", f"办理方法：{steps}。",
              ("怎么办", "怎么操作", "在哪", "哪里", "步骤", "流程", "怎么申请", "入口", "怎么提前", "怎么还")),
    ]
    example = _prepayment_example(product, ask.amount, ask.term) if product else ""
    if example:
        points.insert(1, Point("example", "按您说的金额算一算", example, ("算", "例子", "多少")))
    closing = (Choice("按您自己的借款帮您试算", _AFFIRM, "1", True, ("试算", "我的借款")),)
    return build_form(cat, "prepayment", ask, points, product, closing=closing, sms=True,
                 product_question="提前还款的手续费每款产品不一样，请问您问的是哪款？")


def _prepayment_example(product: Product, amount: Optional[int], term: Optional[int]) -> str:
    if not (amount and term and product.amount_in_range(amount) and product.supports_term(term)) or term < 4:
        return ""
    rate, paid = product.apr_min, 2
    quote = prepayment_quote(build_schedule(amount, rate, term, product.repayment_methods[0]), paid, product=product)
    return (f"比如借{wan(amount)}分{term}期，按{format_apr(rate)}算，还满{paid}期后全部结清，要还剩余本金"
            f"{format_yuan(quote.principal_repaid)}、手续费{format_yuan(quote.fee)}，少付利息{format_yuan(quote.interest_saved)}。")


# ----------------------------------------------------------------- repayment

def repayment(cat: Catalogue, ask: Ask) -> VoiceForm:
    r = cat.repayment
    points = [
        Point("due_day", "每月哪天还款", as_sentence(r.due_day_rule),
              ("哪天", "几号", "还款日", "日期", "什么时候还", "哪一天", "每个月")),
        Point("auto_debit", "怎么自动扣款", as_sentence(r.auto_debit),
              ("扣款", "自动", "扣钱", "代扣", "扣了", "几点")),
        Point("ways", "有哪些还款方式", "可以这样还：" + "；".join(w.rstrip("。") for w in r.channels) + "。",
              ("怎么还", "方式", "渠道", "在哪还", "主动还", "转账", "入口", "还款方法")),
        Point("change", "怎么修改还款日", as_sentence(r.change_due_day),
              ("改还款日", "换还款日", "修改还款日", "调整还款日", "改", "修改", "换日子", "调整", "变更")),
        Point("holiday", "节假日怎么还", as_sentence(r.holiday_rule),
              ("节假日", "假期", "周末", "过年", "春节", "国庆", "顺延")),
        Point("records", "还款记录和扣款失败", as_sentence(r.notes), ("记录", "失败", "没扣", "扣不了", "凭证")),
    ]
    closing = (Choice("帮您查名下借款的下期应还金额", _AFFIRM, "1", True, ("查", "下期", "应还")),)
    return build_form(cat, "repayment", ask, points, None, closing=closing, sms=True)


# ------------------------------------------------------------------- overdue

def overdue(cat: Catalogue, ask: Ask) -> VoiceForm:
    o = cat.overdue
    points = [
        Point("grace", "宽限期", f"还款日当天24:00前还清都不算逾期；还款日后{o.grace_days}天是宽限期，"
              "宽限期内还清不收罚息，也不会报送征信。",
              ("宽限", "晚几天", "晚一天", "晚两天", "晚还", "忘了还", "算逾期", "几天")),
        Point("penalty", "超过宽限期的罚息", penalty_rule(cat) + "。",
              ("罚息", "利息", "多收", "违约金", "费用", "收费", "多少钱", "要交"), fee=True),
        Point("credit_report", "会不会上征信", f"逾期超过{o.credit_report_after_days}天的，逾期记录会报送人行征信，"
              "还清后如实更新为已结清。", ("征信", "信用", "黑名单", "记录", "影响")),
        Point("collection", "我们会怎么联系您", "；".join(c.rstrip("。") for c in o.collection_rules) + "。",
              ("催收", "打电话", "家人", "骚扰", "上门", "联系")),
        Point("hardship", "暂时还不上怎么办", as_sentence(o.advice),
              ("还不上", "困难", "没钱", "协商", "延期", "缓", "分期", "还不起")),
    ]
    closing = (Choice("为您登记协商还款", _AFFIRM, "1", True, ("登记", "协商")),)
    lead = ask.lead or "理解您的难处，我如实告诉您。"
    return build_form(cat, "overdue", Ask(ask.question, ask.product, ask.amount, ask.term, lead), points, None,
                 closing=closing, sms=True)


# -------------------------------------------------------- conditions, materials

def eligibility(cat: Catalogue, ask: Ask) -> VoiceForm:
    e, product = cat.eligibility, product_of(cat, ask)
    conditions = "；".join(c.rstrip("。") for c in e.conditions)
    if product and product.eligibility:
        conditions += f"；{product.name}还要求" + "、".join(product.eligibility)
    own = ""
    if product:
        own = (f"申请{product.name}还需要：" + "、".join(product.materials) + "。") if product.materials \
            else f"申请{product.name}不需要另外的材料。"
    points = [
        Point("conditions", "申请条件", f"申请条件：{conditions}。能否通过以审批结果为准。",
              ("条件", "要求", "资格", "能不能", "可以申请", "年龄", "多大", "谁能", "能借吗")),
        Point("materials", "要准备的材料", "需要准备：" + "、".join(e.materials) + "。",
              ("材料", "准备", "资料", "带什么", "证件", "需要什么", "提供")),
        Point("product_materials", "不同产品另外要的材料", own, ("装修", "营业执照", "房产", "流水", "另外"),
              needs_product=True),
        Point("fees", "申请收不收费", as_sentence(e.notes), ("收费", "费用", "交钱", "学生")),
    ]
    return build_form(cat, "eligibility", ask, points, product, sms=True,
                 product_question="不同产品另外要的材料不一样，请问您想申请哪款？")


# -------------------------------------------------------------------- limits

def limits(cat: Catalogue, ask: Ask) -> VoiceForm:
    li = cat.limits
    points = [
        Point("assessed", "额度怎么定", as_sentence(li.assessed_by), ("多少", "怎么定", "能借多少", "为什么", "调")),
        Point("check", "在哪查额度", as_sentence(li.how_to_check), ("查", "看", "在哪", "有效期")),
        Point("increase", "怎么提额", as_sentence(li.increase),
              ("提额", "提高", "涨", "加额度", "提升", "怎么提", "额度提", "提额度")),
        Point("revolving", "还款后额度恢复", as_sentence(li.revolving_note), ("循环", "恢复", "再借", "还了")),
        Point("decrease", "额度降低或冻结", as_sentence(li.decrease) + as_sentence(li.frozen),
              ("降", "冻结", "没额度", "变少", "为零")),
    ]
    return build_form(cat, "limits", ask, points, None, sms=True)


# ----------------------------------------------------------- account services

def account(cat: Catalogue, ask: Ask) -> VoiceForm:
    chosen = [code for code, words in ACCOUNT_KEYWORDS.items() if any(w in ask.question for w in words)]
    tip = "任何人向您索要验证码或密码都不要提供。"
    if not chosen:
        names = "、".join(p.name for p in cat.account_services)
        points = [Point("list", "", f"账户业务可以自助办理：{names}。请直接说您要办哪一项。{tip}")]
        return build_form(cat, "account", ask, points, None)
    p = cat.account_service(chosen[0])
    points = [
        Point("steps", f"{p.name}的办理方法", f"{p.name}：" + "；".join(s.rstrip("。") for s in p.steps) + "。" + tip,
              ("怎么", "在哪", "步骤")),
        Point("requirements", "要准备什么",
              "需要：" + "；".join(p.requirements) + "。" + as_sentence(cat.sla(p.sla_kind).note),
              ("需要", "材料", "准备", "多久")),
    ]
    return build_form(cat, "account", ask, points, None)


__all__ = ["FEE_CUES", "account", "as_sentence", "build_form", "eligibility", "limits", "overdue", "prepayment",
           "product_choices", "product_of", "repayment"]
