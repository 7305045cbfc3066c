"""Text for the ear: ``to_speech(text)`` turns a chat reply into what a voice channel says.

Voice has no emoji, links, markdown or tables, and a person reads figures the way they
are meant: ``12%`` as 百分之十二, ``¥1,776.98`` as 一千七百七十六元九角八分,
``SQ202611200001`` and ``400-820-8820`` digit by digit (1 as 幺, as Chinese call
centres do), dates as 二零二六年十一月二十日, ``9:00-21:00`` as 九点至二十一点.
Numbers go through cn2an.  The result contains no ASCII digits.  What a TTS engine reads badly
(brackets, 「」, ÷ ×, APP menu paths, "年化利率(单利)") is rewritten by :mod:`credit.text.ear` first.
"""
from __future__ import annotations

import re
from typing import List, Match

import cn2an

from credit.text.ear import for_the_ear

_DIGITS = "零一二三四五六七八九"
_DIGITS_YAO = "零幺二三四五六七八九"

# --- markup -------------------------------------------------------------------------
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*\)")
_URL = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\uff01-\uff5e<>\"]*", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMOJI = re.compile(
    "["
    "\U0001F000-\U0001FAFF"  # pictographs, emoticons, transport, symbols & pictographs ext.
    "\U00002600-\U000027BF"  # misc symbols, dingbats (☎ ✅ ✨ ⚠)
    "\U00002B00-\U00002BFF"  # arrows, stars (⭐)
    "\U0001F1E6-\U0001F1FF"  # regional indicator flags
    "\U0000FE00-\U0000FE0F"  # variation selectors
    "\U0000200D\U000020E3"  # zero-width joiner, keycap
    "\U00002190-\U000021FF"  # arrows
    "\U00002300-\U000023FF"  # misc technical (⏰ ⌛)
    "\U000025A0-\U000025FF"  # geometric shapes (▶ ●)
    "\U00003030\U0000303D\U00003297\U00003299"
    "\U0000E000-\U0000F8FF"  # private use
    "]+"
)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")

# --- figures ------------------------------------------------------------------------
_APPLICATION_ID = re.compile(r"(?<![A-Za-z0-9])[Ss][Qq]([0-9]{1,12})(?![0-9])")  # also partial ("SQ2026…")
_HOTLINE = re.compile(r"(?<![0-9])([0-9]{3,4})[-\s]([0-9]{3,4})[-\s]([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(0[0-9]{2,3})-([0-9]{7,8})(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")
_MASKED = re.compile(r"(?<![0-9*])([0-9]{0,4})(?:\*{3,}\s*)+([0-9]{3}[0-9Xx]|[0-9]{2,4})(?![0-9A-Za-z])")
_ID_TAIL = re.compile(r"(?<![0-9A-Za-z])([0-9]{3})([Xx])(?![A-Za-z0-9])")
_DATE = re.compile(r"(?<![0-9])([0-9]{4})(?:-|/|年)([0-9]{1,2})(?:-|/|月)([0-9]{1,2})日?(?![0-9])")
_YEAR_MONTH = re.compile(r"(?<![0-9])([0-9]{4})年([0-9]{1,2})月")
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})年")
_TIME = re.compile(r"(?<![0-9:])([01]?[0-9]|2[0-4])[:：]([0-5][0-9])(?![0-9:])")
_THOUSANDS = re.compile(r"(?<![0-9,])[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![0-9,])")
_RANGE = re.compile(r"(?<=[0-9%元万点分])\s*(?:~|～|－|—|–|-|至|到)\s*(?=[¥￥]?[0-9])")
_MONEY_SIGN = re.compile(r"(?:RMB|CNY|[¥￥])\s*([0-9]+(?:\.[0-9]+)?)(\s*万)?(?:\s*元)?")
_MONEY_YUAN = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*(万)?元")
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*[%％]")
_PERMILLE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*‰")
_CONTEXT_DIGITS = re.compile(
    r"(尾号|后四位|后4位|末四位|末4位|验证码|编号|卡号|账号|号码|电话|热线|客服电话|工号|订单号|短信)"
    r"(\s*(?:是|为|：|:)?\s*)([0-9]{2,})"
)
_LIST_MARK = re.compile(r"^\s*(?:[-*+•·]\s+|>\s*|#{1,6}\s*)")
_NUMBERED = re.compile(r"^\s*([0-9]{1,2})(?:\.(?![0-9])|[、)）])\s*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_LIANG_UNITS = "个笔次天张位种周项份期"


def _digit_string(digits: str, yao: bool = True) -> str:
    table = _DIGITS_YAO if yao else _DIGITS
    return "".join(table[int(d)] if d.isdigit() else ("X" if d in "Xx" else d) for d in digits)


def _grouped(digits: str, size: int = 4) -> str:
    return "，".join(_digit_string(digits[i : i + size]) for i in range(0, len(digits), size))


def _liang(reading: str) -> str:
    """二千 -> 两千, 二万 -> 两万 (how people say amounts); 十二 and 二十 stay."""
    return re.sub(r"(?<![十一二三四五六七八九])二(?=[百千万亿])", "两", reading)


def cardinal(number: str) -> str:
    """``"12"`` -> 十二, ``"3.6"`` -> 三点六, ``"20000"`` -> 两万."""
    number = number.replace(",", "")
    if not _NUMBER.fullmatch(number):
        return number
    integer, _, fraction = number.partition(".")
    integer = integer.lstrip("0") or "0"
    reading = cn2an.an2cn(integer, "low")
    if fraction:
        reading += "点" + _digit_string(fraction, yao=False)
    return _liang(reading)


def money(amount: str, wan: bool = False) -> str:
    """``"1776.98"`` -> 一千七百七十六元九角八分; ``"1.5", wan=True`` -> 一点五万元."""
    amount = amount.replace(",", "")
    if wan:
        return cardinal(amount) + "万元"
    integer, _, fraction = amount.partition(".")
    fraction = (fraction + "00")[:2]
    jiao, fen = int(fraction[0]), int(fraction[1])
    yuan = int(integer or "0")
    parts: List[str] = []
    if yuan or not (jiao or fen):
        parts.append(cardinal(str(yuan)) + "元")
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    if fen:
        if yuan and not jiao:
            parts.append("零")
        parts.append(_DIGITS[fen] + "分")
    return "".join(parts)


def _table_to_sentences(lines: List[str]) -> List[str]:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if not _TABLE_SEPARATOR.match(line)
    ]
    if not rows:
        return []
    has_header = len(lines) > 1 and bool(_TABLE_SEPARATOR.match(lines[1]))
    if not has_header:
        return ["，".join(c for c in row if c) + "。" for row in rows]
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        pairs = [f"{h}{v}" if h else v for h, v in zip(header[1:], row[1:], strict=False) if v]
        first = row[0] if row else ""
        out.append((f"{first}：" if first else "") + "，".join(pairs) + "。")
    return out


def _strip_markup(text: str) -> str:
    # masked figures first: their asterisks are not emphasis markers
    text = _MASKED.sub(lambda m: "尾号" + _digit_string(m.group(2)), text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _EMAIL.sub("", text)
    text = _EMOJI.sub("", text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: List[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("|"):
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            out.extend(_table_to_sentences(block))
            continue
        line = _LIST_MARK.sub("", line)
        line = _NUMBERED.sub(lambda m: cardinal(m.group(1)) + "、", line)
        out.append(line)
        i += 1
    text = "\n".join(out)
    text = re.sub(r"(\*\*|__|~~|`+)", "", text)
    text = re.sub(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    text = text.replace("【", "").replace("】", "，").replace("《", "").replace("》", "")
    return text


def _read_figures(text: str) -> str:
    text = _APPLICATION_ID.sub(lambda m: "S Q，" + _grouped(m.group(1)), text)
    text = _LANDLINE.sub(lambda m: _digit_string(m.group(1)) + "，" + _grouped(m.group(2)), text)
    text = _HOTLINE.sub(lambda m: "，".join(_digit_string(g) for g in m.groups()), text)
    text = _MOBILE.sub(lambda m: "，".join(_digit_string(g) for g in m.groups()), text)
    text = _ID_TAIL.sub(lambda m: _digit_string(m.group(1)) + "X", text)
    text = _CONTEXT_DIGITS.sub(lambda m: m.group(1) + m.group(2) + _digit_string(m.group(3)), text)
    text = _DATE.sub(
        lambda m: f"{_digit_string(m.group(1), yao=False)}年{cardinal(m.group(2))}月{cardinal(m.group(3))}日", text
    )
    text = _YEAR_MONTH.sub(lambda m: f"{_digit_string(m.group(1), yao=False)}年{cardinal(m.group(2))}月", text)
    text = _YEAR.sub(lambda m: f"{_digit_string(m.group(1), yao=False)}年", text)
    text = _RANGE.sub("至", text)
    text = _TIME.sub(_time, text)
    text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _MONEY_SIGN.sub(lambda m: money(m.group(1), wan=bool(m.group(2))), text)
    text = _MONEY_YUAN.sub(lambda m: money(m.group(1), wan=bool(m.group(2))), text)
    text = _PERCENT.sub(lambda m: "百分之" + cardinal(m.group(1)), text)
    text = _PERMILLE.sub(lambda m: "千分之" + cardinal(m.group(1)), text)
    text = re.sub(r"(?<![0-9.第])(2)(?=[" + _LIANG_UNITS + "])", "两", text)
    text = _NUMBER.sub(_plain_number, text)
    return text


def _time(m: Match[str]) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    reading = cardinal(str(hour)) + "点"
    if hour == 2:
        reading = "两点"
    if minute == 30:
        reading += "半"
    elif minute:
        reading += ("零" if minute < 10 else "") + cardinal(str(minute)) + "分"
    return reading


def _plain_number(m: Match[str]) -> str:
    number = m.group(0)
    if "." not in number and (len(number) >= 7 or (len(number) > 1 and number.startswith("0"))):
        return _digit_string(number)
    return cardinal(number)


def _tidy(text: str) -> str:
    text = text.replace("&", "和").replace("+", "加").replace("=", "等于")
    text = re.sub(r"元\s*/\s*", "元每", text)
    text = text.replace("/", "或")
    text = re.sub(r"[#|<>{}\[\]\\^~`*_]", "", text)
    lines = [line.strip() for line in text.split("\n")]
    sentences = []
    for line in lines:
        if not line:
            continue
        if line[-1] not in "。！？!?，,；;：:、":
            line += "。"
        sentences.append(line)
    text = "".join(sentences)
    text = re.sub(r"[ \t\u3000]+", " ", text)
    cjk = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
    text = re.sub(f"(?<=[{cjk}]) | (?=[{cjk}])", "", text)
    text = re.sub(r"\s*([，。！？；：、,.!?;:])\s*", r"\1", text)
    text = re.sub(r"([，,、；;：:])(?=[，,。！？!?；;、])", "", text)
    text = re.sub(r"([。！？!?])[，,、；;：:]+", r"\1", text)
    text = re.sub(r"[，,]{2,}", "，", text)
    text = re.sub(r"。{2,}", "。", text)
    return text.strip(" ，,、")


_FULLWIDTH = str.maketrans("０１２３４５６７８９％．，", "0123456789%.,")


def to_speech(text: str) -> str:
    """A chat reply as a voice channel should say it (plain text, no ASCII digits)."""
    if not text:
        return ""
    text = re.sub(r"(?<=[０-９])[．，](?=[０-９])", lambda m: m.group(0).translate(_FULLWIDTH), str(text))
    text = re.sub(r"[０-９％]", lambda m: m.group(0).translate(_FULLWIDTH), text)
    return _tidy(_read_figures(for_the_ear(_strip_markup(text))))
