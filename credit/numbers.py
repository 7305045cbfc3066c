"""Chinese number and identifier extraction (plain Python, no Rasa imports).

Everything works on the *raw* message text with regular expressions and cn2an,
never on jieba tokens: jieba splits "借1万分12期" into 借/1/万分/12/期.

Offsets: :func:`normalize` is length-preserving (one character in, one
character out), so every :class:`Span` start/end refers to the caller's
original text.

Public API
----------
normalize(text)                              full-width -> half-width, unify spaces
extract_application_id(text, allow_bare=False)  "SQ" + 12 digits, upper-case
extract_id_last4(text, strict_context=False)    "123X"
extract_phone_last4(text, strict_context=False) "5678"
extract_phone_number(text)                    "13812345678"
extract_otp(text)                             "123456"
parse_amount(text) -> int | None              yuan
parse_term(text) -> int | None                months
extract_all(text) -> list[Span]               non-overlapping entity spans
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import cn2an

logger = logging.getLogger(__name__)

__all__ = [
    "Span",
    "normalize",
    "spoken_to_digits",
    "extract_application_id",
    "extract_id_last4",
    "extract_phone_last4",
    "extract_phone_number",
    "extract_otp",
    "parse_amount",
    "parse_term",
    "extract_all",
    "MAX_AMOUNT",
    "MAX_TERM_MONTHS",
]

MAX_AMOUNT = 1_000_000_000  # yuan; anything larger is not a loan amount
MAX_TERM_MONTHS = 120
MAX_TEXT_LENGTH = 20_000  # longer input is truncated before extraction


@dataclass(frozen=True)
class Span:
    """One extracted entity. ``start``/``end`` index into the original text."""

    entity: str
    value: str
    start: int
    end: int
    raw: str


# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------

_TRANSLATION: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
_TRANSLATION.update(
    {
        0x3000: " ",  # ideographic space
        0xFFE5: "¥",  # full-width yen/yuan sign
        0x2010: "-",
        0x2011: "-",
        0x2012: "-",
        0x2013: "-",
        0x2014: "-",
        0x2015: "-",
        0x2212: "-",
    }
)


def normalize(text: str | None) -> str:
    """Full-width to half-width, every kind of whitespace to a plain space.

    Length-preserving on purpose, so offsets stay valid for the original text
    (runs of spaces are therefore not collapsed).
    """
    if not text:
        return ""
    out = text.translate(_TRANSLATION)
    if any(c.isspace() and c != " " for c in out):
        out = "".join(" " if c.isspace() else c for c in out)
    return out


# --------------------------------------------------------------------------
# character classes
# --------------------------------------------------------------------------

# digit-by-digit spoken forms (幺 = 1 on the phone); 两 is a quantity word, not
# used when reading out digits, so it is not here.
_SPOKEN_DIGITS = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_DG = "0-9" + "".join(_SPOKEN_DIGITS)  # body of a digit character class
# characters that make a digit run part of a longer number
_NUMCH = _DG + "两十百千万亿点."
_CN_NUM_CHARS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_CN_START = "零〇一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾"  # may start a number
_CN_MAGNITUDE = set("十百千万亿拾佰仟")

_PUNCT_FILLER = set(" ,.;:!?~\"'()[]{}<>-_/\\*#|+=，。；：！？～、“”‘’（）【】《》…·")
_FILLER_CHARS = set("嗯啊哦噢呃额好的是就我吧呢呀哈那个这喔唔对了")


def spoken_to_digits(s: str) -> str:
    """'幺二三叉' -> '123X'; drops spaces and hyphens; '*'/'x'/'叉' -> 'X'."""
    out = []
    for c in s:
        if c in _SPOKEN_DIGITS:
            out.append(_SPOKEN_DIGITS[c])
        elif "0" <= c <= "9":
            out.append(c)
        elif c in "xX*叉":
            out.append("X")
    return "".join(out)


# --------------------------------------------------------------------------
# patterns (applied to normalize(text))
# --------------------------------------------------------------------------

_SEP = r"[ \-]{0,2}"

_APP_RE = re.compile(rf"(?<![A-Za-z0-9])[Ss][Qq][ \-_#:]{{0,3}}((?:[{_DG}]{_SEP}){{11}}[{_DG}])(?![{_DG}])")
_BARE_APP_RE = re.compile(r"(?<![A-Za-z0-9.])(2[ \-]{0,2}0(?:[ \-]{0,2}[0-9]){10})(?![0-9])")
_APP_CONTEXT_RE = re.compile(r"申请编号|申请号|申请单|单号|编号|订单号|进件号|业务号")

_PHONE_RE = re.compile(
    rf"(?<![{_NUMCH}A-Za-z+])((?:\+|00)?86[ \-]?)?"
    rf"([1一幺][ \-]?[3-9三四五六七八九](?:[ \-]?[{_DG}]){{9}})(?![{_NUMCH}])"
)

_CODE4_RE = re.compile(
    rf"(?<![{_NUMCH}A-Za-z])([{_DG}]{{3}}[{_DG}Xx叉*])(?![{_NUMCH}A-Za-z叉*])"
    r"(?!\s*(?:元|块|圆|万|千|百|[kKwW](?![A-Za-z])|期|个月|月|年|天|日|号|%|岁|次|分|秒|点|笔|张))"
)

_OTP_RE = re.compile(rf"(?<![{_NUMCH}A-Za-z])([{_DG}]{{3}} ?[{_DG}]{{3}})(?![{_NUMCH}A-Za-z])")

_ID_KW = re.compile(r"身份证|证件|身份号")
_PHONE_KW = re.compile(r"手机|电话|联系方式|预留号码")
_OTHER_KW = re.compile(r"银行卡|卡号|储蓄卡|信用卡|借记卡|账号|账户|车牌")
_LAST4_KW = re.compile(r"后四位|后4位|末四位|末4位|最后四位|最后4位|尾号|尾数|后几位|最后几位")
_OTP_KW = re.compile(r"验证码|校验码|动态码|短信码|动态密码|code|otp|OTP|Code|CODE")
_AFTER_DOMAIN_RE = re.compile(r"\s*(?:是|为|就是)?\s*(?:我的?)?\s*(身份证|证件|手机|电话)")

# amounts
_AR_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_NUMEXPR_RE = re.compile(
    rf"(?<![A-Za-z0-9.,])(?:{_AR_NUM}|[{_CN_START}])"
    rf"(?:[0-9{_CN_NUM_CHARS}]|点[0-9{_CN_START}]|\.[0-9])*"
    r"(?:[kKwW](?![A-Za-z]))?"
)
_CURRENCY_AFTER_RE = re.compile(r"\s*(块钱|元钱|元|块|圆|rmb|RMB|人民币)")
_CURRENCY_BEFORE_RE = re.compile(r"(?:¥|人民币|RMB|rmb|CNY)\s*$")
_MONEY_CONTEXT_RE = re.compile(r"借|贷|额度|金额|本金|提现|取现|放款|到账|还款|还了|欠|打款|转账|周转|缺|要")
_NOT_AMOUNT_AFTER_RE = re.compile(
    r"\s*(?:期|个月|個月|月|年|天|日|号|%|岁|次|秒|点|笔|张|位|人|倍|小时|周|星期|通|条|家|个"
    r"|分(?!\s*(?:[0-9]{1,3}|[零〇一二两三四五六七八九十]{1,4})\s*(?:期|个月)))"
)

# terms
_TERM_NUM = r"[0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,4}"
_TERM_RE = re.compile(rf"(?<![0-9.第{_CN_NUM_CHARS}])(?:分\s*)?({_TERM_NUM})\s*(?:个月期|个月|個月|期)")
_TERM_YEAR_RE = re.compile(
    r"(?<![0-9.第零〇一二两三四五六七八九十百千万])"
    r"([0-9]{1,2}|[一二两三四五六七八九十]{1,2}|半)\s*(?:个)?\s*年(半)?(?:期)?"
    r"(?!前|后|以前|以后|来|里|级|底|初|中|末|度)"
)

# complaints: (regex, category); longer / more specific first
_COMPLAINT_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"爆通讯录|催收|催债|暴力催|骚扰|威胁|恐吓|打电话给我家人|联系我家人|打给我同事"), "collection"),
    (re.compile(r"乱收费|利息高|利息太高|利率太高|多扣|乱扣|扣了|扣我|手续费|服务费|收费|费"), "fee"),
    (re.compile(r"态度|骂|不理|爱答不理|不耐烦|敷衍|挂我电话|凶"), "attitude"),
    (re.compile(r"太慢|好慢|慢|等了|太久|好久|迟迟|拖延|拖着|拖了|拖(?!欠)"), "slow"),
]


# --------------------------------------------------------------------------
# numeral helpers
# --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _to_number(expr: str) -> float | None:
    """'1.5万' / '一万五' / '5k' / '20,000' / '一点五万' -> number, else None."""
    s = expr.replace(",", "").strip()
    if not s:
        return None
    s = s.replace("k", "千").replace("K", "千").replace("w", "万").replace("W", "万")
    # digit-by-digit Chinese ("五零零零") has no magnitude characters
    if len(s) > 1 and not (_CN_MAGNITUDE & set(s)) and "点" not in s and "." not in s:
        if all(c in _SPOKEN_DIGITS or "0" <= c <= "9" for c in s) and not s.isdigit():
            return float(spoken_to_digits(s))
    if s.isdigit():
        return float(s)
    for mode in ("smart", "normal"):
        try:
            return float(cn2an.cn2an(s, mode))
        except Exception:  # noqa: BLE001 - cn2an raises ValueError/KeyError/...
            pass
    # trailing magnitude on a decimal mantissa: "一点五万"
    units = {"万": 10_000, "千": 1_000, "百": 100, "亿": 100_000_000}
    if len(s) > 1 and s[-1] in units:
        base = _to_number(s[:-1])
        if base is not None:
            return base * units[s[-1]]
    return None


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
# candidate collection and overlap resolution
# --------------------------------------------------------------------------

_P_APP, _P_PHONE, _P_APP_BARE, _P_TERM, _P_AMOUNT_UNIT = 0, 1, 2, 3, 4
_P_OTP, _P_CODE4, _P_AMOUNT_CTX, _P_PRODUCT, _P_COMPLAINT = 5, 6, 7, 8, 9


@dataclass(frozen=True)
class _Mode:
    bare_app: str = "context"  # bare 12-digit ids: "never" / "context" / "always"
    codes: bool = True  # 4-char and 6-digit codes (off when parsing an amount)
    loose_code4: bool = False  # 4-char codes without context
    loose_otp: bool = False  # 6-digit codes without context
    loose_amount: bool = False  # bare numbers are amounts
    ambiguous_code4: str = "id_last4"  # entity for a 4-char code without context
    products: bool = True
    complaints: bool = True


def _app_candidates(t: str, mode: _Mode) -> list[tuple[int, Span]]:
    out = []
    for m in _APP_RE.finditer(t):
        digits = spoken_to_digits(m.group(1))
        out.append((_P_APP, Span("application_id", "SQ" + digits, m.start(), m.end(), m.group(0))))
    for m in _BARE_APP_RE.finditer(t):
        if mode.bare_app == "never":
            break
        ok = mode.bare_app == "always" or _is_essentially(t, m.start(), m.end())
        ok = ok or bool(_APP_CONTEXT_RE.search(t[max(0, m.start() - 10) : m.start()]))
        if ok:
            value = "SQ" + spoken_to_digits(m.group(1))
            out.append((_P_APP_BARE, Span("application_id", value, m.start(), m.end(), m.group(0))))
    return out


def _phone_candidates(t: str) -> list[tuple[int, Span]]:
    out = []
    for m in _PHONE_RE.finditer(t):
        value = spoken_to_digits(m.group(2))
        out.append((_P_PHONE, Span("phone_number", value, m.start(), m.end(), m.group(0))))
    return out


def _code4_candidates(t: str, mode: _Mode) -> list[tuple[int, Span]]:
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
        out.append((_P_CODE4, Span(entity, value, m.start(), m.end(), m.group(0))))
    return out


def _otp_candidates(t: str, mode: _Mode) -> list[tuple[int, Span]]:
    out = []
    for m in _OTP_RE.finditer(t):
        ok = mode.loose_otp or _is_essentially(t, m.start(), m.end())
        ok = ok or bool(_OTP_KW.search(t[max(0, m.start() - 12) : m.start()]))
        if ok:
            value = spoken_to_digits(m.group(1))
            out.append((_P_OTP, Span("otp_code", value, m.start(), m.end(), m.group(0))))
    return out


def _amount_candidates(t: str, mode: _Mode) -> list[tuple[int, Span]]:
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
        value = _to_number(expr)
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
            out.append((_P_AMOUNT_UNIT, Span("amount", str(amount), span_start, span_end, raw)))
            continue
        if _NOT_AMOUNT_AFTER_RE.match(t, end):
            continue
        if has_magnitude and amount >= 100:
            # 五千 / 1万5 / 两千五 / 5k / 一百
            out.append((_P_AMOUNT_UNIT, Span("amount", str(amount), start, end, raw)))
            continue
        ctx = _MONEY_CONTEXT_RE.search(t[max(0, start - 6) : start])
        if amount >= 100 and (ctx or mode.loose_amount):
            out.append((_P_AMOUNT_CTX, Span("amount", str(amount), start, end, raw)))
    return out


def _term_months(num: str, half: bool = False, years: bool = False) -> int | None:
    if num == "半":
        months = 6.0
    else:
        value = _to_number(num)
        if value is None or value > 10_000 or value != int(value):
            return None
        months = value * (12 if years else 1) + (6 if half else 0)
    months_int = int(months)
    if months_int < 1 or months_int > MAX_TERM_MONTHS:
        return None
    return months_int


def _term_candidates(t: str) -> list[tuple[int, Span]]:
    out = []
    for m in _TERM_RE.finditer(t):
        months = _term_months(m.group(1))
        if months is not None:
            out.append((_P_TERM, Span("term", str(months), m.start(), m.end(), m.group(0))))
    for m in _TERM_YEAR_RE.finditer(t):
        num = m.group(1)
        if num != "半":
            value = _to_number(num)
            if value is None or value > 10:
                continue
        months = _term_months(num, half=bool(m.group(2)), years=True)
        if months is not None:
            out.append((_P_TERM, Span("term", str(months), m.start(), m.end(), m.group(0))))
    return out


def _complaint_candidates(t: str) -> list[tuple[int, Span]]:
    out = []
    for pattern, category in _COMPLAINT_RULES:
        for m in pattern.finditer(t):
            out.append((_P_COMPLAINT, Span("complaint_category", category, m.start(), m.end(), m.group(0))))
    return out


# ---- products -------------------------------------------------------------


def _iter_products(catalogue: object) -> list[object]:
    products = getattr(catalogue, "products", None)
    if callable(products):
        products = products()
    if isinstance(products, dict):
        return list(products.values())
    if products is None:
        return []
    return list(products)


def _get(obj: object, name: str, default: object = None) -> object:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@lru_cache(maxsize=1)
def _product_table() -> tuple[tuple[str, str], ...]:
    """(alias, product code) pairs, longest alias first; empty if no catalogue."""
    try:
        from credit.catalogue import load_catalogue
    except ImportError:
        logger.warning("credit.catalogue not importable; product entities disabled")
        return ()
    try:
        catalogue = load_catalogue()
    except Exception:  # noqa: BLE001 - a broken catalogue must not break NLU
        logger.exception("could not load the product catalogue")
        return ()
    pairs: dict[str, str] = {}
    for product in _iter_products(catalogue):
        code = _get(product, "code")
        if not code:
            continue
        names = [_get(product, "name"), _get(product, "short_name"), code]
        names += list(_get(product, "aliases", None) or [])
        for name in names:
            if isinstance(name, str) and len(name.strip()) >= 2:
                pairs.setdefault(normalize(name.strip()).lower(), str(code))
    return tuple(sorted(pairs.items(), key=lambda kv: (-len(kv[0]), kv[0])))


def _product_candidates(t: str) -> list[tuple[int, Span]]:
    table = _product_table()
    if not table:
        return []
    lowered = t.lower()
    out = []
    for alias, code in table:
        start = lowered.find(alias)
        while start >= 0:
            end = start + len(alias)
            # latin aliases must be whole words ("anjia" not inside "xanjiay")
            if alias.isascii() and (
                (start > 0 and lowered[start - 1].isascii() and lowered[start - 1].isalnum())
                or (end < len(lowered) and lowered[end].isascii() and lowered[end].isalnum())
            ):
                start = lowered.find(alias, start + 1)
                continue
            out.append((_P_PRODUCT, Span("product", code, start, end, t[start:end])))
            start = lowered.find(alias, end)
    if not out:
        out.extend(_product_fallback(t))
    return out


def _product_fallback(t: str) -> list[tuple[int, Span]]:
    """Ask Catalogue.find_product(text); keep it only if we can locate a span."""
    try:
        from credit.catalogue import load_catalogue

        product = load_catalogue().find_product(t)
    except Exception:  # noqa: BLE001
        return []
    if not product:
        return []
    code = product if isinstance(product, str) else _get(product, "code")
    if not code:
        return []
    names = [] if isinstance(product, str) else [_get(product, "name")] + list(_get(product, "aliases", None) or [])
    for name in names:
        if isinstance(name, str) and name:
            i = t.lower().find(normalize(name).lower())
            if i >= 0:
                return [(_P_PRODUCT, Span("product", str(code), i, i + len(name), t[i : i + len(name)]))]
    return []


# ---- resolution -----------------------------------------------------------


def _collect(text: str | None, mode: _Mode) -> list[Span]:
    if not text:
        return []
    original = text[:MAX_TEXT_LENGTH]
    t = normalize(original)
    candidates: list[tuple[int, Span]] = []
    candidates += _app_candidates(t, mode)
    candidates += _phone_candidates(t)
    candidates += _term_candidates(t)
    candidates += _amount_candidates(t, mode)
    if mode.codes:
        candidates += _otp_candidates(t, mode)
        candidates += _code4_candidates(t, mode)
    if mode.products:
        candidates += _product_candidates(t)
    if mode.complaints:
        candidates += _complaint_candidates(t)

    candidates.sort(key=lambda c: (c[0], -(c[1].end - c[1].start), c[1].start))
    taken: list[Span] = []
    occupied = bytearray(len(t) + 1)
    for _, span in candidates:
        if span.end <= span.start or any(occupied[span.start : span.end]):
            continue
        taken.append(span)
        occupied[span.start : span.end] = b"\x01" * (span.end - span.start)
    taken.sort(key=lambda s: s.start)
    # one complaint_category entity per category is enough
    seen: set[str] = set()
    deduped = []
    for s in taken:
        if s.entity == "complaint_category":
            if s.value in seen:
                continue
            seen.add(s.value)
        deduped.append(s)
    taken = deduped
    # raw from the caller's text (normalize is length-preserving)
    return [Span(s.entity, s.value, s.start, s.end, original[s.start : s.end]) for s in taken]


def _first(spans: list[Span], entity: str) -> str | None:
    for span in spans:
        if span.entity == entity:
            return span.value
    return None


_NUMERIC_ONLY = _Mode(products=False, complaints=False)


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def extract_all(text: str | None) -> list[Span]:
    """All entities, non-overlapping, in text order.

    id_last4 only with ID context (身份证/证件/后四位/尾号 not preceded by
    手机/电话) or when the message essentially *is* the 4-char code;
    phone_last4 only with 手机/电话 context; otp_code with 验证码/code context
    or a message that is just 6 digits; amount needs a currency unit, a
    magnitude (万/千/k/w) or money context (借/贷/额度…).
    """
    return _collect(text, _Mode())


def extract_application_id(text: str | None, allow_bare: bool = False) -> str | None:
    """'SQ' + 12 digits, upper-case; with allow_bare also '2026…' (12 digits)."""
    mode = _Mode(bare_app="always" if allow_bare else "never", products=False, complaints=False)
    spans = _collect(text, mode)
    return _first(spans, "application_id")


def extract_id_last4(text: str | None, strict_context: bool = False) -> str | None:
    """Last four characters of the ID card, e.g. '123X'.

    strict_context=False (answering "身份证后四位?"): any stand-alone 4-char
    code that is not in phone/bank-card context; True: same rules as extract_all.
    """
    mode = _Mode(loose_code4=not strict_context, products=False, complaints=False)
    return _first(_collect(text, mode), "id_last4")


def extract_phone_last4(text: str | None, strict_context: bool = False) -> str | None:
    """Last four digits of the mobile number; falls back to the tail of a full number.

    strict_context=False: any stand-alone 4-digit code not in ID/bank-card
    context; True: needs 手机/电话 context or a message that is just the code.
    """
    mode = _Mode(
        loose_code4=not strict_context,
        ambiguous_code4="phone_last4",
        products=False,
        complaints=False,
    )
    spans = _collect(text, mode)
    value = _first(spans, "phone_last4")
    if value is not None:
        return value
    phone = _first(spans, "phone_number")
    return phone[-4:] if phone else None


def extract_phone_number(text: str | None) -> str | None:
    """11-digit mainland mobile number (+86 prefix, spaces, hyphens, spoken digits ok)."""
    return _first(_collect(text, _NUMERIC_ONLY), "phone_number")


def extract_otp(text: str | None) -> str | None:
    """6-digit one-time code (also '123 456' and spoken '幺二三四五六')."""
    return _first(_collect(text, _Mode(loose_otp=True, products=False, complaints=False)), "otp_code")


def parse_amount(text: str | None) -> int | None:
    """Amount in yuan: 5000, 5千, 五千, 5k, 1.5万, 一万五, 两万, 2w, ¥20,000, 3千块钱…

    A bare number of at least 100 is accepted here (slot answer to "借多少?"); terms such as
    "12期" are never amounts.
    """
    value = _first(_collect(text, _Mode(loose_amount=True, codes=False, products=False, complaints=False)), "amount")
    return int(value) if value is not None else None


_BARE_TERM_RE = re.compile(rf"^\s*({_TERM_NUM})\s*$")


def parse_term(text: str | None) -> int | None:
    """Term in months: 12期, 十二期, 十二个月, 一年 -> 12, 两年 -> 24, 半年 -> 6, 分12期.

    A message that is only a small number ("12", "十二") is also read as months.
    """
    value = _first(_collect(text, _NUMERIC_ONLY), "term")
    if value is not None:
        return int(value)
    m = _BARE_TERM_RE.match(normalize(text or "")[:100])
    if m:
        months = _term_months(m.group(1))
        if months is not None and months <= 60:
            return months
    return None
