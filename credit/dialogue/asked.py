"""Short questions answered from the catalogue before anything is asked back: the grace period, the shortest term,
the lowest rate, the products on offer, a document the customer lacks, a repayment method a product may not offer,
and the other channels when the hotline does not get through.  Plain Python; nothing here promises approval."""
from __future__ import annotations

import re
from typing import Optional

from credit.catalogue.loader import Catalogue, Product, format_apr, format_apr_range, format_percent
from credit.replies import Reply, button, numbered

#: a document's words, and the catalogue's words for it (materials and conditions)
DOCUMENTS = (("房产", re.compile(r"房产证|房本|不动产|房产证明|自有住房|房子")),
             ("营业执照", re.compile(r"营业执照|执照")),
             ("流水", re.compile(r"流水")))
LACKS = re.compile(r"没有|没|无|缺|办不了|拿不出|不够|才办|刚办|不满")


def grace_answer(cat: Catalogue) -> Reply:
    """The grace period, what it spares, and what follows it."""
    o = cat.overdue
    return Reply("\n".join([
        f"有{o.grace_days}天宽限期：",
        numbered([f"还款日后{o.grace_days}天内还清，不收罚息，也不会作为逾期报送征信；",
                  f"超过{o.grace_days}天仍未还清，从还款日次日起按合同年化利率的{o.penalty_multiplier.normalize():f}倍对逾期本金计收罚息"
                  f"（不超过年化{format_percent(o.penalty_apr_max)}）；",
                  f"逾期超过{o.credit_report_after_days}天，会如实报送人行征信。"]),
        "如果预计会晚还，建议提前联系我们申请协商还款。"]),
        (button("申请协商还款", "affirm"), button("转人工客服", "request_human")))


def _products(cat: Catalogue, code: Optional[str]) -> list[Product]:
    product = cat.find_product(code or "")
    return [product] if product else list(cat.products)


def shortest_term_answer(cat: Catalogue, code: Optional[str]) -> Reply:
    """The shortest (and longest) term of the product named, or of each."""
    items = [f"{p.name}最短{p.term_min}期（{p.term_min}个月），最长{p.term_max}期，可选{p.format_terms()}"
             for p in _products(cat, code)]
    body = items[0] + "。" if len(items) == 1 else "期限按产品：\n" + numbered(items)
    return Reply(body + "\n期限越短总利息越少，但每月还得多一些。")


def lowest_rate_answer(cat: Catalogue, code: Optional[str]) -> Reply:
    """The low end of the range, honestly: what sets the actual rate, no promise of the lowest."""
    products = _products(cat, code)
    rates = "；".join(f"{p.name}最低{format_apr(p.apr_min)}，最高{format_percent(p.apr_max)}" for p in products)
    return Reply(f"{rates}，已包含利息和全部费用。\n具体给您多少，由系统按收入、负债和征信情况审批决定，"
                 "我这里没法提前承诺；签约前合同里会写明，您确认后才生效。按时还款、负债低，一般更有利于定价。",
                 (button("帮我算月供", "affirm"), button("申请条件", "ask_eligibility")))


def products_answer(cat: Catalogue) -> Reply:
    """The products on offer, one line each."""
    items = [f"{p.name}（{p.category}）：{format_apr_range(p)}，可借{p.format_amount_range()}，最长{p.term_max}期"
             for p in cat.products]
    return Reply("我们目前有这几款产品：\n" + numbered(items) + "\n告诉我借款用途和大概金额，我帮您看看哪款更合适。")


def document_named(text: str) -> Optional[str]:
    return next((name for name, words in DOCUMENTS if words.search(text)), None)


def _needs(p: Product, name: str) -> bool:
    words = dict(DOCUMENTS)[name]
    return any(words.search(item) for item in (*p.materials, *p.eligibility))


def documents_answer(cat: Catalogue, text: str) -> Optional[Reply]:
    """Which product needs the document the customer names (or lacks), what it asks, and the ones that do not."""
    name = document_named(text)
    if name is None:
        return None
    needing = [p for p in cat.products if _needs(p, name)]
    if not needing:
        return None
    others = [p for p in cat.products if p not in needing]
    lines = []
    for p in needing:
        asks = [item for item in (*p.eligibility, *p.materials) if dict(DOCUMENTS)[name].search(item)
                or (name == "营业执照" and "流水" in item)]
        lines.append(f"{p.name}需要：{'；'.join(asks)}。")
    if LACKS.search(text) and others:
        lines.append("暂时不满足的话，可以看看" + "、".join(
            f"{p.name}（{p.category}，不需要{name}）" for p in others) + "。")
    lines.append("是否能通过、额度多少，以系统审批结果为准。")
    return Reply("\n".join(lines), (button("申请条件", "ask_eligibility"), button("利率是多少", "ask_interest_rate")))


def method_answer(cat: Catalogue, method: str, code: Optional[str]) -> Reply:
    """Whether the product offers the method, and which products do."""
    name = cat.method_name(method)
    offering = [p.name for p in cat.products if p.supports_method(method)]
    product = cat.find_product(code or "")
    if product is not None and not product.supports_method(method):
        head = (f"{product.name}目前只支持{'、'.join(product.method_names)}，暂不支持{name}。"
                + (f"支持{name}的是{'、'.join(offering)}。" if offering else ""))
    elif product is not None:
        head = f"{product.name}支持{name}，可选的还款方式有：{'、'.join(product.method_names)}。"
    else:
        head = f"{name}目前{'、'.join(offering)}支持。" if offering else f"{name}目前各产品都暂不支持。"
    how = next((m.description for m in cat.repayment_methods if m.code == method), "")  # the catalogue's words
    return Reply(head + "\n" + (f"{name}：{how}" if how else "") + "告诉我金额和期数，我帮您按这种方式算一算。")


def channels_answer(cat: Catalogue) -> Reply:
    """The hotline does not get through: the other ways in."""
    h = cat.hotline
    return Reply("热线忙的时候可能一时打不通，还可以这样联系我们：\n" + numbered([
        f"在{h.online}；",
        "就在这里直接说您的问题，我能处理的马上处理，需要人工的我帮您转接或登记回电；",
        f"稍后再拨热线{h.number}（{h.hours}）。"]),
        (button("转人工客服", "request_human"),))


def x_digit_answer() -> Reply:
    """How to type an ID ending in X."""
    return Reply("身份证末位是X的，直接输入X就行，大小写都可以，比如“123X”或“123x”。请把身份证号后四位发给我。")


def full_number_answer() -> Reply:
    """A whole ID or card number sent: never needed; the question itself is taken up."""
    return Reply("理解您着急，这个问题我来帮您核实处理。\n"
                 "为了您的信息安全，请不要在对话里发送完整的身份证号或银行卡号，"
                 "也请勿告诉任何人验证码；核实身份只需要身份证号后四位或手机号后四位。\n"
                 "扣款有疑问的，可以先在APP「我的借款」查看扣款明细；需要人工核实的话，我帮您转人工客服或登记。",
                 (button("查询申请进度", "check_progress"), button("转人工客服", "request_human")))


def all_fees_answer(cat: Catalogue) -> Reply:
    """Every cost, none hidden: the annual rate includes them; the two charges that depend on what the customer does."""
    o = cat.overdue
    rules = "；".join(f"{p.name}{p.prepayment.description.rstrip('。')}" for p in cat.products)
    return Reply("没有隐藏费用。我们公布的年化利率(单利)已包含利息和全部费用，不另收服务费、管理费，"
                 "申请和放款前也不收任何钱。\n"
                 "只有两种情况会另外产生费用，事先都写在合同里：\n" + numbered([
                     f"提前还款手续费，按产品规则：{rules}；",
                     f"逾期罚息：超过{o.grace_days}天宽限期后，按合同年化利率的{o.penalty_multiplier.normalize():f}倍计收，"
                     f"不超过年化{format_percent(o.penalty_apr_max)}。"]) +
                 "\n签约前合同会列明全部费用，您确认后才生效。",
                 (button("利率是多少", "ask_interest_rate"), button("了解提前还款", "ask_prepayment")))


def complaint_time_answer(cat: Catalogue) -> Reply:
    """"投诉多久给我答复" inside the complaint form: the promised times, then the form asks on."""
    sla = cat.sla("complaint")
    resolve = f"，{sla.resolve_days}天内给出处理结果" if sla.resolve_days else ""
    return Reply(f"登记后{sla.reply_hours}小时内会有专人联系您{resolve}；工单号会发给您，随时可以凭它查进度。")


def service_fee_answer(cat: Catalogue, operation: Optional[str]) -> Reply:
    """"收钱吗" inside a service: what it costs (the settlement certificate's fee from the catalogue; the rest is
    free), then the form asks on."""
    if operation == "settlement":
        c = cat.settlement_certificate
        return Reply(f"开结清证明是{c.fee}的，{c.delivery}")
    if operation == "prepay_calc":  # prepaying costs what each product's rule says: never "free" here
        return Reply("查询和试算不收费；提前还款手续费按产品规则：\n"
                     + numbered([f"{p.name}：{p.prepayment.description}" for p in cat.products]))
    if operation == "cancel":
        return Reply(cat.sla("cancellation").note.rstrip("。") + "，我们也不会收取任何手续费；"
                     + cat.stage("cancelled").next_step)
    return Reply("在这里查询、核实和办理都不收取任何费用；任何要求您先付费的说法都不可信。")
