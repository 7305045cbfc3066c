"""Chinese number and identifier extraction (plain Python, no Rasa imports).

Everything works on the *raw* message text with regular expressions and cn2an,
never on jieba tokens: jieba splits "借1万分12期" into 借/1/万分/12/期.

Offsets: :func:`normalize` is length-preserving (one character in, one
character out), so every :class:`Span` start/end refers to the caller's
original text.  Products and complaint categories are not numbers: they are
found by :mod:`credit.entities`, which also owns :func:`extract_all`.

Public API
----------
normalize(text)                              full-width -> half-width, unify spaces
extract_application_id(text, allow_bare=False)  "SQ" + 12 digits, upper-case
extract_ticket_number(text)                   "TK" + 12 digits, upper-case
extract_id_last4(text, strict_context=False)    "123X"
extract_phone_last4(text, strict_context=False) "5678"
extract_phone_number(text)                    "13812345678"
extract_otp(text)                             "123456"
parse_amount(text) -> int | None              yuan
parse_term(text) -> int | None                months
number_candidates(folded_text, mode)          candidate spans for credit.text.spans.extract
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from credit.text.halfwidth import normalize
from credit.text.numerals import CN_NUM_CHARS, CN_START, DG, NUMCH, spoken_to_digits, to_number
from credit.text.spans import Candidate, Priority, Span, extract, first

__all__ = [
    "Span",
    "NumberMode",
    "normalize",
    "spoken_to_digits",
    "number_candidates",
    "extract_application_id",
    "extract_ticket_number",
    "extract_id_last4",
    "extract_phone_last4",
    "extract_phone_number",
    "extract_otp",
    "parse_amount",
    "parse_term",
    "MAX_AMOUNT",
    "NUMBER_EXPR",
    "MAX_TERM_MONTHS",
]

MAX_AMOUNT = 1_000_000_000  # yuan; anything larger is not a loan amount
MAX_TERM_MONTHS = 120

_PUNCT_FILLER = set(" ,.;:!?~\"'()[]{}<>-_/\\*#|+=，。；：！？～、“”‘’（）【】《》…·")
_FILLER_CHARS = set("嗯啊哦噢呃额好的是就我吧呢呀哈那个这喔唔对了")

# --------------------------------------------------------------------------
# patterns (applied to normalize(text))
# --------------------------------------------------------------------------

_SEP = r"[ \-]{0,2}"

_APP_RE = re.compile(rf"(?<![A-Za-z0-9])[Ss][Qq][ \-_#:]{{0,3}}((?:[{DG}]{_SEP}){{11}}[{DG}])(?![{DG}])")
_TICKET_RE = re.compile(rf"(?<![A-Za-z0-9])[Tt][Kk][ \-_#:]{{0,3}}((?:[{DG}]{_SEP}){{11}}[{DG}])(?![{DG}])")
_BARE_APP_RE = re.compile(r"(?<![A-Za-z0-9.])(2[ \-]{0,2}0(?:[ \-]{0,2}[0-9]){10})(?![0-9])")
_APP_CONTEXT_RE = re.compile(r"申请编号|申请号|申请单|单号|编号|订单号|进件号|业务号")

_PHONE_RE = re.compile(
    rf"(?<![{NUMCH}A-Za-z+])((?:\+|00)?86[ \-]?)?"
    rf"([1一幺][ \-]?[3-9三四五六七八九](?:[ \-]?[{DG}]){{9}})(?![{NUMCH}])"
)

_CODE4_RE = re.compile(
    rf"(?<![{NUMCH}A-Za-z])([{DG}]{{3}}[{DG}Xx叉*])(?![{NUMCH}A-Za-z叉*])"
    r"(?!\s*(?:元|块|圆|万|千|百|[kKwW](?![A-Za-z])|期|个月|月|年|天|日|号|%|岁|次|分|秒|点|笔|张))"
)

_OTP_RE = re.compile(rf"(?<![{NUMCH}A-Za-z])([{DG}]{{3}} ?[{DG}]{{3}})(?![{NUMCH}A-Za-z])")

_ID_KW = re.compile(r"身份证|证件|身份号")
_PHONE_KW = re.compile(r"手机|电话|联系方式|预留号码")
_OTHER_KW = re.compile(r"银行卡|卡号|储蓄卡|信用卡|借记卡|账号|账户|车牌")
_LAST4_KW = re.compile(r"后四位|后4位|末四位|末4位|最后四位|最后4位|尾号|尾数|后几位|最后几位")
_OTP_KW = re.compile(r"验证码|校验码|动态码|短信码|动态密码|code|otp|OTP|Code|CODE")
_AFTER_DOMAIN_RE = re.compile(r"\s*(?:是|为|就是)?\s*(?:我的?)?\s*(身份证|证件|手机|电话)")

# amounts
_AR_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
NUMBER_EXPR = _NUMEXPR_RE = re.compile(
    rf"(?<![A-Za-z0-9.,])(?:{_AR_NUM}|[{CN_START}])"
    rf"(?:[0-9{CN_NUM_CHARS}]|点[0-9{CN_START}]|\.[0-9])*"
    r"(?:[kKwW](?![A-Za-z]))?"
)
_CURRENCY_AFTER_RE = re.compile(r"\s*(块钱|元钱|元|块|圆|rmb|RMB|人民币)")
_CURRENCY_BEFORE_RE = re.compile(r"(?:¥|人民币|RMB|rmb|CNY)\s*$")
_MONEY_CONTEXT_RE = re.compile(r"借|贷|额度|金额|本金|提现|取现|放款|到账|还款|还了|欠|打款|转账|周转|缺|要|"
                               r"转了|付了|交了|汇了|转过去|提前还|先还|想还|要还|还剩|剩下|剩余|想把|把")
# after "把 <number>": the number was sent or typed in ("把3578发过去了" "把1234填上"), not paid
_SENT_AFTER_RE = re.compile(r"\s*(?:发|给你|给您|告诉|填|输|报|打上|写上|念)")
_NOT_AMOUNT_AFTER_RE = re.compile(
    r"\s*(?:期|个月|個月|月|年(?!化|利率|息)|天|日|号|%|岁|次|秒|点|笔|张|位|人|倍|小时|周|星期|通|条|家|个"
    r"|分(?!\s*(?:[0-9]{1,3}|[零〇一二两三四五六七八九十]{1,4}|半)\s*(?:期|个月|个?年)))"
)

# terms
_TERM_NUM = r"[0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,4}"
_TERM_RE = re.compile(rf"(?<![0-9.第{CN_NUM_CHARS}])(?:分\s*)?({_TERM_NUM})\s*(?:个月期|个月|個月|期)")
# right after an amount's magnitude: "借5万12期" is 5万 and 12期
_TERM_AFTER_MAGNITUDE_RE = re.compile(r"(?<=[万千kKwW])([0-9]{1,3}|[一二两三四五六七八九十]{1,3})\s*"
                                      r"(?:个月期|个月|個月|期)")
# "借六万一年" "3万两年": 六万 and 一年 (a Chinese digit after a magnitude ends the amount when a term unit follows)
_YEARS_AFTER_MAGNITUDE_RE = re.compile(r"(?<=[万千kKwW])([0-9]{1,2}|[一二两三四五六七八九十]{1,2}|半)\s*"
                                       r"(?:个)?\s*年(半)?"
                                       r"(?!化|利率|息|前|后|以前|以后|来|里|级|底|初|中|末|度)")
_MAGNITUDE_THEN_TERM_RE = re.compile(r"^(.*[万千kKwW])([0-9]{1,3}|[一二两三四五六七八九十]{1,3})$")
_TERM_AFTER_RE = re.compile(r"\s*(?:个月期|个月|個月|期|(?:个)?\s*年(?!化|利率|息|前|后))")
_TERM_YEAR_RE = re.compile(
    r"(?<![0-9.第零〇一二两三四五六七八九十百千万])"
    r"([0-9]{1,2}|[一二两三四五六七八九十]{1,2}|半)\s*(?:个)?\s*年(半)?(?:期)?"
    r"(?!前|后|以前|以后|来|里|级|底|初|中|末|度)"
)
# "已经还了4期": periods repaid, not the loan's term (credit/dialogue/facts.py reads them as such)
_REPAID_BEFORE_RE = re.compile(r"(?:还了|已还|还过|还满|还到|还完了?|已经还|交了|已交|才还|刚还|只还了)\s*(?:第\s*)?$")
_BARE_TERM_RE = re.compile(rf"^\s*({_TERM_NUM})\s*$")


# --------------------------------------------------------------------------
# context helpers
# --------------------------------------------------------------------------


def _is_essentially(text: str, start: int, end: int) -> bool:
    """True if text outside [start, end) is only punctuation / filler words."""
    rest = text[:start] + text[end:]
    return all(c in _PUNCT_FILLER or c in _FILLER_CHARS or c.isspace() for c in rest)


def _last_pos(pattern: re.Pattern[str], s: str) -> int:
    pos = -1
    for m in pattern.finditer(s):
        pos = m.end()
    return pos


def _code_domain(text: str, start: int, end: int) -> str | None:
    """Which kind of number a 4-char code is by context: 'id', 'phone', 'other' or None."""
    before = text[max(0, start - 16) : start]
    kinds = {
        "id": _last_pos(_ID_KW, before),
        "phone": _last_pos(_PHONE_KW, before),
        "other": _last_pos(_OTHER_KW, before),
    }
    best = max(kinds, key=lambda k: kinds[k])
    if kinds[best] >= 0:
        return best
    if _LAST4_KW.search(before):
        return "id"
    m = _AFTER_DOMAIN_RE.match(text, end)
    if m and m.start(1) - end <= 6:
        return "id" if m.group(1) in ("身份证", "证件") else "phone"
    return None


# --------------------------------------------------------------------------
# candidates
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberMode:
    """How eager each number finder is; each public extractor picks one."""

    bare_app: str = "context"  # bare 12-digit ids: "never" / "context" / "always"
    codes: bool = True  # 4-char and 6-digit codes (off when parsing an amount)
    loose_code4: bool = False  # 4-char codes without context
    loose_otp: bool = False  # 6-digit codes without context
    loose_amount: bool = False  # bare numbers are amounts
    ambiguous_code4: str = "id_last4"  # entity for a 4-char code without context


def _app_candidates(t: str, mode: NumberMode) -> list[Candidate]:
    out = []
    for m in _APP_RE.finditer(t):
        digits = spoken_to_digits(m.group(1))
        out.append((Priority.APPLICATION_ID, Span("application_id", "SQ" + digits, m.start(), m.end(), m.group(0))))
    for m in _BARE_APP_RE.finditer(t):
        if mode.bare_app == "never":
            break
        ok = mode.bare_app == "always" or _is_essentially(t, m.start(), m.end())
        ok = ok or bool(_APP_CONTEXT_RE.search(t[max(0, m.start() - 10) : m.start()]))
        if ok:
            value = "SQ" + spoken_to_digits(m.group(1))
            out.append((Priority.BARE_APPLICATION_ID, Span("application_id", value, m.start(), m.end(), m.group(0))))
    return out


def _ticket_candidates(t: str) -> list[Candidate]:
    return [(Priority.APPLICATION_ID, Span("ticket_number", "TK" + spoken_to_digits(m.group(1)).replace(" ", "")
                                           .replace("-", ""), m.start(), m.end(), m.group(0)))
            for m in _TICKET_RE.finditer(t)]


def _phone_candidates(t: str) -> list[Candidate]:
    out = []
    for m in _PHONE_RE.finditer(t):
        value = spoken_to_digits(m.group(2))
        out.append((Priority.PHONE, Span("phone_number", value, m.start(), m.end(), m.group(0))))
    return out


def _code4_candidates(t: str, mode: NumberMode) -> list[Candidate]:
    out = []
    for m in _CODE4_RE.finditer(t):
        value = spoken_to_digits(m.group(1))
        if len(value) != 4 or "X" in value[:3]:
            continue
        domain = _code_domain(t, m.start(), m.end())
        if domain == "other":
            continue
        if domain is None:
            if not (mode.loose_code4 or _is_essentially(t, m.start(), m.end())):
                continue
            entity = mode.ambiguous_code4
        else:
            entity = "id_last4" if domain == "id" else "phone_last4"
        if entity == "phone_last4" and not value.isdigit():
            continue
        out.append((Priority.CODE4, Span(entity, value, m.start(), m.end(), m.group(0))))
    return out


def _otp_candidates(t: str, mode: NumberMode) -> list[Candidate]:
    out = []
    for m in _OTP_RE.finditer(t):
        ok = mode.loose_otp or _is_essentially(t, m.start(), m.end())
        ok = ok or bool(_OTP_KW.search(t[max(0, m.start() - 12) : m.start()]))
        if ok:
            value = spoken_to_digits(m.group(1))
            out.append((Priority.OTP, Span("otp_code", value, m.start(), m.end(), m.group(0))))
    return out


def _amount_candidates(t: str, mode: NumberMode) -> list[Candidate]:
    out = []
    for m in _NUMEXPR_RE.finditer(t):
        expr = m.group(0)
        start, end = m.start(), m.end()
        # a trailing 点 or comma is punctuation, not part of the number
        while expr and expr[-1] in ",.点":
            expr = expr[:-1]
            end -= 1
        if not expr or len(expr) > 24:  # too long to be an amount
            continue
        split = _MAGNITUDE_THEN_TERM_RE.match(expr)
        if split and _TERM_AFTER_RE.match(t, end):  # "5万12期": the amount ends at its magnitude
            expr, end = split.group(1), end - len(split.group(2))
        value = to_number(expr)
        if value is None or not 0 < value <= MAX_AMOUNT:
            continue
        amount = int(round(value))
        if amount < 1 or amount > MAX_AMOUNT:
            continue
        cur_after = _CURRENCY_AFTER_RE.match(t, end)
        cur_before = _CURRENCY_BEFORE_RE.search(t[max(0, start - 4) : start])
        has_magnitude = any(c in "百千万亿佰仟kKwW" for c in expr)
        span_start = start - (len(cur_before.group(0)) if cur_before else 0)
        span_end = cur_after.end() if cur_after else end
        raw = t[span_start:span_end]
        if cur_after or cur_before:
            out.append((Priority.AMOUNT_WITH_UNIT, Span("amount", str(amount), span_start, span_end, raw)))
            continue
        if _NOT_AMOUNT_AFTER_RE.match(t, end):
            continue
        if has_magnitude and amount >= 100:
            # 五千 / 1万5 / 两千五 / 5k / 一百
            out.append((Priority.AMOUNT_WITH_UNIT, Span("amount", str(amount), start, end, raw)))
            continue
        ctx = _MONEY_CONTEXT_RE.search(t[max(0, start - 6) : start])
        if ctx and ctx.group(0) == "把" and _SENT_AFTER_RE.match(t, end):
            ctx = None  # "我把3578发过去了": a code or number sent, not a sum of money
        if amount >= 100 and (ctx or mode.loose_amount):
            out.append((Priority.AMOUNT_IN_CONTEXT, Span("amount", str(amount), start, end, raw)))
    return out


def _term_months(num: str, half: bool = False, years: bool = False) -> int | None:
    if num == "半":
        months = 6.0
    else:
        value = to_number(num)
        if value is None or value > 10_000 or value != int(value):
            return None
        months = value * (12 if years else 1) + (6 if half else 0)
    months_int = int(months)
    if months_int < 1 or months_int > MAX_TERM_MONTHS:
        return None
    return months_int


def _term_candidates(t: str) -> list[Candidate]:
    out = []
    for m in [*_TERM_RE.finditer(t), *_TERM_AFTER_MAGNITUDE_RE.finditer(t)]:
        months = _term_months(m.group(1))
        if _REPAID_BEFORE_RE.search(t[max(0, m.start() - 6):m.start()]):
            continue
        if months is not None:
            out.append((Priority.TERM, Span("term", str(months), m.start(), m.end(), m.group(0))))
    for m in [*_TERM_YEAR_RE.finditer(t), *_YEARS_AFTER_MAGNITUDE_RE.finditer(t)]:
        num = m.group(1)
        if num != "半":
            value = to_number(num)
            if value is None or value > 10:
                continue
        months = _term_months(num, half=bool(m.group(2)), years=True)
        if months is not None:
            out.append((Priority.TERM, Span("term", str(months), m.start(), m.end(), m.group(0))))
    return out


def number_candidates(t: str, mode: NumberMode) -> list[Candidate]:
    """Every number and identifier candidate in the folded text ``t`` (overlaps allowed)."""
    candidates = (_ticket_candidates(t) + _app_candidates(t, mode) + _phone_candidates(t) + _term_candidates(t)
                  + _amount_candidates(t, mode))
    if mode.codes:
        candidates += _otp_candidates(t, mode) + _code4_candidates(t, mode)
    return candidates


def _numbers(text: str | None, mode: NumberMode) -> list[Span]:
    return extract(text, [partial(number_candidates, mode=mode)])


# --------------------------------------------------------------------------
# public API: one value from a slot answer
# --------------------------------------------------------------------------


def extract_application_id(text: str | None, allow_bare: bool = False) -> str | None:
    """'SQ' + 12 digits, upper-case; with allow_bare also '2026…' (12 digits)."""
    mode = NumberMode(bare_app="always" if allow_bare else "never")
    return first(_numbers(text, mode), "application_id")


def extract_ticket_number(text: str | None) -> str | None:
    """'TK' + 12 digits, upper-case (full-width, spaces and hyphens folded)."""
    return first(_numbers(text, NumberMode(codes=False)), "ticket_number")


def extract_id_last4(text: str | None, strict_context: bool = False) -> str | None:
    """Last four characters of the ID card, e.g. '123X'.

    strict_context=False (answering "身份证后四位?"): any stand-alone 4-char
    code that is not in phone/bank-card context; True: same rules as extract_all.
    """
    return first(_numbers(text, NumberMode(loose_code4=not strict_context)), "id_last4")


def extract_phone_last4(text: str | None, strict_context: bool = False) -> str | None:
    """Last four digits of the mobile number; falls back to the tail of a full number.

    strict_context=False: any stand-alone 4-digit code not in ID/bank-card
    context; True: needs 手机/电话 context or a message that is just the code.
    """
    spans = _numbers(text, NumberMode(loose_code4=not strict_context, ambiguous_code4="phone_last4"))
    value = first(spans, "phone_last4")
    if value is not None:
        return value
    phone = first(spans, "phone_number")
    return phone[-4:] if phone else None


def extract_phone_number(text: str | None) -> str | None:
    """11-digit mainland mobile number (+86 prefix, spaces, hyphens, spoken digits ok)."""
    return first(_numbers(text, NumberMode()), "phone_number")


def extract_otp(text: str | None) -> str | None:
    """6-digit one-time code (also '123 456' and spoken '幺二三四五六')."""
    return first(_numbers(text, NumberMode(loose_otp=True)), "otp_code")


def parse_amount(text: str | None) -> int | None:
    """Amount in yuan: 5000, 5千, 五千, 5k, 1.5万, 一万五, 两万, 2w, ¥20,000, 3千块钱…

    A bare number of at least 100 is accepted here (slot answer to "借多少?"); terms such as
    "12期" are never amounts.
    """
    value = first(_numbers(text, NumberMode(loose_amount=True, codes=False)), "amount")
    return int(value) if value is not None else None


def parse_term(text: str | None) -> int | None:
    """Term in months: 12期, 十二期, 十二个月, 一年 -> 12, 两年 -> 24, 半年 -> 6, 分12期.

    A message that is only a small number ("12", "十二") is also read as months.
    """
    value = first(_numbers(text, NumberMode()), "term")
    if value is not None:
        return int(value)
    m = _BARE_TERM_RE.match(normalize(text or "")[:100])
    if m:
        months = _term_months(m.group(1))
        if months is not None and months <= 60:
            return months
    return None
