"""Extractors: the customer's own facts in one message, read with the project's entity finders.

``read_facts`` returns a :class:`TurnFacts`; :func:`credit.dialogue.state.ConversationState.updated` folds it into the
state.  A number is read once, in its role: "借了3万，已经还了4期" is an amount of 30,000 and 4 periods repaid (not a
4-period term); "逾期两天" is 2 days overdue; "别家年化才6%" is an annual 6% and stays one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from credit.catalogue.glossary import METHOD_WORDS
from credit.entities import extract_all
from credit.text.halfwidth import normalize
from credit.text.numerals import to_number

_NUM = r"[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百半]+"
# periods already repaid: "已经还了4期" "按时还了六个月" "还满3期" (a term is "分4期", "4期的")
_REPAID = re.compile(r"(?:还了|已还|还过|还满|还到|还完了?|已经还|交了|已交|借了|借满了?|才还|刚还|只还了)"
                     rf"\s*(?:第\s*)?({_NUM})\s*"
                     r"(?:期|个多?月|個月)")  # "借了八个多月": the loan's age, the periods it has run
# days overdue: "逾期两天" "晚了3天" "超过还款日一天" "5天没还"
_OVERDUE = re.compile(rf"(?:逾期了?|预期了?|晚了?|迟了?|超了|超过了?|过了还款日|超过还款日|拖了?|晚还了?)\s*({_NUM})\s*"
                      r"(天|日|周|星期|个多?月|多天)")
# the due day and the day it was paid: "还款日是15号 我18号还上的" "15号该还的，拖到17号才还"
_DUE_THEN_PAID = re.compile(r"(?:还款日|到期日|应还日)?[^，。？?0-9]{0,3}?([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*号"
                            r"[^0-9一二三四五六七八九十]{0,8}?([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*号"
                            r"[^，。？?]{0,3}?(?:才还|还上|还的|还了|还清|补上)")
# paying late said in words: a day paid "before" the due day is then the next month's
_LATE_WORDS = re.compile(r"才还|才补|拖到|拖了|晚了|下个月|次月")
_OVERDUE_AFTER = re.compile(rf"({_NUM})\s*(天|日|周|星期|个多?月)\s*(?:了)?\s*(?:都|还|也)?\s*"
                            r"(?:没还|没有还|未还|才还|逾期|还不上|没还上|还没还)")
# the month of a payoff: "第8个月提前还清" "第8期结清"
_PAYOFF_MONTH = re.compile(rf"第\s*({_NUM})\s*(?:个月|個月|期)")
_PAYOFF_WORDS = re.compile(r"提前|还清|结清|一次性|全部还|还完|全还")
_PAID_THROUGH = re.compile(r"(?:还完|还了|还到|还满|交完|付完)\s*$")
# another lender's (or a stated) rate: the figure, and its unit from the words around it
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[%％]|个点|厘)|"
                   r"(?<=年化)\s*(\d+(?:\.\d+)?)(?![\d.万千百元块期个])")  # "年化12": a percentage said bare
# "日息万分之五", and the lenders' shorthand "日息万五" (the same: 0.05% a day)
_WAN_RATE = re.compile(rf"万分之\s*({_NUM})|(?<=日息)\s*万\s*([一二两三四五六七八九1-9])(?![0-9万千元块])|"
                       r"(?<=日利率)\s*万\s*([一二两三四五六七八九1-9])(?![0-9万千元块])")
# "月息一分" = 1% a month, "月息一分五" = 1.5% (the lenders' way of saying it)
_FEN_RATE = re.compile(r"(?:(?:月息|月利率|每月)\s*(?:才|只有|只要|就|是|大概|差不多|约|也就|不到|只)?\s*"
                       r"([一二两三四五六七八九1-9])\s*分\s*([一二三四五六七八九1-9])?(?!之|钟|期)|"
                       r"([一二两三1-3])\s*分\s*([一二三四五六七八九1-9])?\s*(?:的)?(?:利息|利(?!润)|息))")
# "年化百分之十二" "百分之七点二": the figure said in words is read as "12%"
_PERCENT_WORDS = re.compile(r"百分之\s*([0-9]+(?:\.[0-9]+)?|"
                            r"[零〇一二两三四五六七八九十]+(?:点[零〇一二两三四五六七八九]+)?)")
# "先只还利息，最后还本金" is 先息后本 described
_INTEREST_FIRST = re.compile(r"(?:先|只|光|每月)(?:只)?还利息|先付利息|先还息|只还息")
# "头一个月" "第一个月" "首月" name an instalment, not the loan's term
_FIRST_MONTH = re.compile(r"(?:头|第|首)\s*(?:一|1)\s*(?:个月|個月|期)|首月|首期")
# "一个月大概还多少" "1个月要还多少" ask for the monthly payment: "一个月" is no term there
_PER_MONTH = re.compile(r"(?:一|1|每)\s*个?月\s*(?:大概|大约|差不多|要|得|需要|能|应该|就)?\s*(?:还|供)")
# the principal to be prepaid: "剩下1万想提前还掉" "想先还5万" (the loan's amount is "借了3万")
# ... or after it: "想把20万全还了" "5万一次性还掉"
_PREPAY_AFTER = re.compile(r"\s*(?:元|块钱?)?\s*(?:本金)?\s*(?:(?:都|全|全部|一次性|一把)\s*还了|"
                           r"(?:都|全|全部|一次性|一把)?\s*(?:还掉|还清|提前还|结清|还完))")  # at the amount's end
_PREPAY_BEFORE = re.compile(r"(?:剩下|剩余|还剩|先还|提前还|想还|还掉|结清|部分还|只还)\s*(?:的|了)?\s*(?:本金)?\s*$")
# the customer's age: "我今年58了" "都56岁了" "年纪45"
_AGE = re.compile(rf"(?:今年|年纪|年龄|已经|都|快|满|我)\s*({_NUM})\s*(?:周岁|岁|了)|({_NUM})\s*(?:周岁|岁)(?!以)|"
                  rf"(?:年纪|年龄)\s*(?:是|有)?\s*({_NUM})(?!\s*[–\-到至~])")  # "年龄22到55" is the rule
_ANNUAL = re.compile(r"年化|年利率|年息|一年|每年|年费率|apr|APR")
_MONTHLY = re.compile(r"月息|月利率|月费率|每月|一个月|每个月|月供利息")
_DAILY = re.compile(r"日息|日利率|日费率|每天|一天|天息|日利")
_OTHER_LENDER_WORDS = re.compile(r"别家|人家|别的|其他|其它|银行|外面|[借花白金]呗|微粒贷|京东|网商|朋友|同事|"
                                 r"隔壁|那家|"
                                 r"别处|网贷|平台")


@dataclass(frozen=True)
class StatedRate:
    """A rate the customer stated: the figure in percent, its unit (annual/monthly/daily/unknown), as annual %."""

    figure: float
    unit: str
    annual: Optional[float]

    @property
    def text(self) -> str:
        return f"{self.figure:g}%"


@dataclass(frozen=True)
class TurnFacts:
    product: Optional[str] = None
    amount: Optional[int] = None
    term: Optional[int] = None
    method: Optional[str] = None
    days_overdue: Optional[int] = None
    periods_repaid: Optional[int] = None
    payoff_month: Optional[int] = None
    income: Optional[int] = None
    monthly_debt: Optional[int] = None
    purpose: Optional[str] = None
    other_rate: Optional[StatedRate] = None
    other_lender: Optional[str] = None
    #: the stated rate is the customer's own loan's ("借2万 年化12% 12期"), not another lender's offer
    own_rate: bool = False
    age: Optional[int] = None
    #: the principal the customer wants to prepay, when the message says so ("剩下1万想提前还掉")
    prepay_amount: Optional[int] = None


def _number(expr: str) -> Optional[int]:
    if expr == "半":
        return None
    value = to_number(expr)
    return int(value) if value is not None and value == int(value) and 0 <= value < 10_000 else None


_DISBURSED_DAY = re.compile(r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*(?:号|日)\s*"
                            r"(?:放的款|放款|到的账|到账|借的|下的款|放的)")


def disbursed_day(text: str) -> Optional[int]:
    """The day of the month the loan was paid out: "我是29号放的款" is 29."""
    m = _DISBURSED_DAY.search(normalize(text or ""))
    n = _number(m.group(1)) if m else None
    return n if n is not None and 1 <= n <= 31 else None


# "逾期已经20了" "拖了都15了": a count of days late said without its unit, no age
_LATE_BEFORE = re.compile(r"(?:逾期|晚还|拖|超期|欠|延期|宽限)[^，。？?]{0,4}$")


def age_of(text: str) -> Optional[int]:
    m = _AGE.search(text)
    if m and m.group(1) and _LATE_BEFORE.search(text[max(0, m.start(1) - 10):m.start(1)]):
        m = None
    n = _number(m.group(1) or m.group(2) or m.group(3)) if m else None
    return n if n is not None and 16 <= n <= 90 else None


def periods_repaid(text: str) -> Optional[int]:
    m = _REPAID.search(text)
    return _number(m.group(1)) if m else None


def days_overdue(text: str) -> Optional[int]:
    two = _DUE_THEN_PAID.search(text)
    if two:  # "还款日是15号 我18号还上的": three days late
        due, paid = _number(two.group(1)), _number(two.group(2))
        if due and paid and 1 <= due <= 31 and 1 <= paid <= 31:
            if paid < due and not _LATE_WORDS.search(text):  # "还款日15号 我13号还上的": paid before the due day
                return 0
            return (paid - due) % 31 if paid != due else 0  # "28号该还 拖到3号才还": into the next month
    m = _OVERDUE.search(text)
    if m:
        n = _number(m.group(1))
        return _days(n, m.group(2)) if n is not None else None
    m = _OVERDUE_AFTER.search(text)
    n = _number(m.group(1)) if m else None
    return _days(n, m.group(2)) if m and n is not None else None


def _days(n: int, unit: str) -> int:
    """Days in "n unit": "一个多月" is more than 30 days (read as 45), a week is 7."""
    if "月" in unit:
        return n * 30 + (15 if "多" in unit else 0)
    return n * (7 if unit in ("周", "星期") else 1)


def payoff_month(text: str) -> Optional[int]:
    """The month of the payoff: "第8个月提前还清" is month 8; "还完第6期就结清" pays 1..6 and settles at month 7."""
    m = _PAYOFF_MONTH.search(text)
    if not m or not _PAYOFF_WORDS.search(text[m.end():] + text[:m.start()]):
        return None
    n = _number(m.group(1))
    if n and _PAID_THROUGH.search(text[max(0, m.start() - 4):m.start()]):
        n += 1
    return n if n and n <= 120 else None


def percent_in_figures(text: str) -> str:
    """"百分之十二" -> "12%" (same meaning, one shape for the rate readers)."""
    def figure(m: re.Match) -> str:
        value = to_number(m.group(1))
        return f"{value:g}%" if value is not None and 0 < value < 1000 else m.group(0)
    return _PERCENT_WORDS.sub(figure, text)


def stated_rate(text: str) -> Optional[StatedRate]:
    """The first rate figure with its unit: words within the clause before it, or right after it."""
    text = percent_in_figures(text)
    fen = _FEN_RATE.search(text)
    if fen is not None:
        whole_expr, tenth_expr = (fen.group(1), fen.group(2)) if fen.group(1) else (fen.group(3), fen.group(4))
        whole, tenth = _number(whole_expr), _number(tenth_expr) if tenth_expr else 0
        if whole:
            figure = whole + (tenth or 0) / 10
            return StatedRate(figure=figure, unit="monthly", annual=figure * 12)
    wan = _WAN_RATE.search(text)
    if wan is not None:  # "日息万分之五" = 0.05% a day
        n = _number(wan.group(1) or wan.group(2) or wan.group(3))
        if n:
            return StatedRate(figure=n / 100, unit="daily", annual=n / 100 * 365)
    m = _RATE.search(text)
    if not m:
        return None
    figure = float(m.group(1) or m.group(2))
    if "厘" in m.group(0):
        figure = figure / 10  # "月息8厘" = 0.8% a month
    clause_start = max(text.rfind(p, 0, m.start()) for p in "，。！？,.!?;；") + 1
    # the unit word nearest before the figure wins ("年化按10%算 每月还多少" is annual); else one right after it
    unit = "monthly" if "厘" in m.group(0) else (_unit_before(text[clause_start:m.start()])
                                                 or _unit_before(text[m.end():m.end() + 4][::-1], reverse=True))
    annual = {"daily": figure * 365, "monthly": figure * 12, "annual": figure}.get(unit or "")
    return StatedRate(figure=figure, unit=unit or "unknown", annual=annual)


def _unit_before(text: str, reverse: bool = False) -> Optional[str]:
    """The unit whose word ends nearest the end of ``text`` (``reverse``: the text is the reversed words after)."""
    best, unit = -1, None
    for code, pattern in (("daily", _DAILY), ("monthly", _MONTHLY), ("annual", _ANNUAL)):
        for m in pattern.finditer(text[::-1] if reverse else text):
            end = len(text) - m.start() if reverse else m.end()
            if end > best:
                best, unit = end, code
    return unit


def method_named(text: str) -> Optional[str]:
    """The repayment method a message names; of two, the one it switches to ("从等额本息换成等额本金")."""
    named = sorted((text.find(word), code) for code, word in METHOD_WORDS.items() if word in text)
    if not named:
        return "interest_only" if _INTEREST_FIRST.search(text) else None
    return named[-1][1] if re.search(r"换成|改成|改为|换为", text) else named[0][1]


def read_facts(raw: Optional[str]) -> TurnFacts:
    """Every fact in one message (``None`` for what it does not say)."""
    text = percent_in_figures(normalize(raw or "")[:500])
    spans = extract_all(text)
    repaid = periods_repaid(text)
    repaid_span = _REPAID.search(text)
    overdue_spans = (_OVERDUE.search(text), _OVERDUE_AFTER.search(text))
    values: dict[str, Optional[str]] = {}
    for span in spans:
        if span.entity == "term" and any(m and m.start() <= span.start < m.end() for m in overdue_spans):
            continue  # "两个月还不上" is how long it is overdue, not the loan's term
        if span.entity == "term" and repaid_span and repaid_span.start() <= span.start < repaid_span.end():
            continue  # "还了4期" is what was repaid, not the loan's term
        if span.entity == "term" and any(m.start() <= span.start < m.end() for m in _FIRST_MONTH.finditer(text)):
            continue  # "头一个月还多少" asks for the first instalment
        if span.entity == "term" and any(m.start() <= span.start < m.end() for m in _PER_MONTH.finditer(text)):
            continue  # "一个月大概还多少" asks for the monthly payment
        if span.entity == "amount" and (_PREPAY_BEFORE.search(text[max(0, span.start - 8):span.start])
                                        or _PREPAY_AFTER.match(text, span.end)):
            values.setdefault("prepay_amount", span.value)
        values.setdefault(span.entity, span.value)
    has_rate = _RATE.search(text) or _WAN_RATE.search(text) or _FEN_RATE.search(text)
    rate = stated_rate(text) if has_rate else None
    lender = values.get("other_lender")
    own = rate is not None and not (lender or _OTHER_LENDER_WORDS.search(text))
    if own:
        rate = rate if rate.unit != "unknown" else None  # a bare figure of ours ("12%的利率") is no comparison
    return TurnFacts(
        product=values.get("product"),
        amount=_int(values.get("amount")),
        term=_int(values.get("term")) if payoff_month(text) is None else None,
        method=method_named(text),
        days_overdue=days_overdue(text),
        periods_repaid=repaid,
        payoff_month=payoff_month(text) or _settle_after(text, repaid_span, repaid),
        income=_int(values.get("income")),
        monthly_debt=_int(values.get("monthly_debt")),
        purpose=values.get("purpose"),
        other_rate=rate,
        other_lender=lender,
        own_rate=own and rate is not None,
        prepay_amount=_int(values.get("prepay_amount")),
        age=age_of(text),
    )


def _settle_after(text: str, repaid_span: Optional[re.Match], repaid: Optional[int]) -> Optional[int]:
    """"还满6期之后想一把还清 大概得还多少": paid through month 6, settled at month 7 (a payoff amount asked)."""
    if repaid is None or repaid_span is None or repaid > 119:
        return None
    after = text[repaid_span.end():]
    asks_total = re.search(r"多少|多钱|几", after) and not re.search(r"手续费|违约金|费", after)
    return repaid + 1 if _PAYOFF_WORDS.search(after) and asks_total else None


def _int(value: Optional[str]) -> Optional[int]:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
