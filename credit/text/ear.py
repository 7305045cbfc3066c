"""What a text-to-speech engine reads badly, rewritten as a person would say it (issue 28).

Chat replies may use brackets, 「」 around menu names, ``÷`` and ``×`` in a formula and "APP「我的借款」-
「提前还款」" menu paths; read aloud they come out as noise ("左括号", "乘") or as a path nobody can follow.
:func:`for_the_ear` runs inside :func:`credit.text.speech.to_speech` (after markup is stripped, before
figures are read), so every voice channel and every answer gets it, whoever wrote the text:

* ``年化利率(单利)`` -> ``年化利率，按单利计算，`` (the compliant rate wording, said as a sentence);
* ``APP「我的借款」-「提前还款」`` / ``APP「我的借款-主动还款」`` / ``App“我的申请”`` -> ``手机应用的提前还款页面``
  (the last step of the path, without a leading 我的); a bare ``APP`` -> ``手机应用``; other 「」 go;
* ``(…)`` / ``（…）`` -> a clause between commas; ``÷`` -> 除以, ``×`` -> 乘以, ``／`` -> 或;
* the short public numbers (110, 120, 96110, 12315 …) are read digit by digit like any phone number.

Figures (``%``, amounts, dates) are read by ``credit.text.speech``; this module only rewrites wording.
"""
from __future__ import annotations

import re
from typing import Match

# 「X」 or “X” right after APP, then more 「Y」 steps joined by a dash
_QUOTED = r"[「『“\"]([^」』”\"\n]{1,40})[」』”\"]"
_APP = r"(?<![A-Za-z])(?:APP|App|app)(?![A-Za-z])"
_APP_PATH = re.compile(rf"{_APP}\s*(?:的|里的|中的)?\s*{_QUOTED}(?:\s*[-—－–]\s*{_QUOTED})*")
_STEP = re.compile(_QUOTED)
_BARE_APP = re.compile(_APP)
_CORNER = re.compile(r"[「」『』〔〕]")
_SIMPLE_INTEREST = re.compile(r"\s*[（(]\s*单利\s*[）)]\s*")
_BRACKETED = re.compile(r"[（(]([^（）()]*)[）)]")
_STRAY_BRACKET = re.compile(r"[（）()]")
_LIST_SLASH = re.compile(r"(?<=[0-9])\s*[/／]\s*(?=[0-9])")
# public service numbers, read as digits (not 一百一十) when they are a number to call
_SERVICE_NUMBER = re.compile(r"(?<![0-9.,])(96110|12315|12378|12363|110|119|120|122)"
                             r"(?![0-9.,%％]|\s*(?:元|万|期|天|个|笔|次|人|分|岁|月|年|号|日|倍|项|条|家|位|周|小时))")
_DIGITS_YAO = "零幺二三四五六七八九"
_CLAUSE_END = "。！？；，、：\n!?;,:（）()"


def _page(match: Match[str]) -> str:
    steps = _STEP.findall(match.group(0))
    last = re.split(r"\s*[-—－–]\s*", steps[-1].strip())[-1] if steps else ""
    if last.startswith("我的") and len(last) > 2:
        last = last[2:]
    if not last:
        return "手机应用"
    return f"手机应用的{last}" + ("" if last.endswith(("页面", "页")) else "页面")


def _clause(match: Match[str]) -> str:
    """``A（B）C`` -> ``A，B，C``; at the end of a sentence ``A（B）。`` -> ``A，B。``."""
    inner = match.group(1).strip()
    if not inner:
        return ""
    after = match.string[match.end():match.end() + 1]
    return f"，{inner}" + ("" if not after or after in _CLAUSE_END else "，")


def for_the_ear(text: str) -> str:
    """``text`` without brackets, 「」, ÷ ×, slashes or APP menu paths; wording otherwise unchanged."""
    if not text:
        return ""
    text = _SIMPLE_INTEREST.sub("，按单利计算，", text)
    text = _APP_PATH.sub(_page, text)
    text = _BARE_APP.sub("手机应用", text)
    text = _CORNER.sub("", text)
    for _ in range(3):  # nested brackets, innermost first
        text, count = _BRACKETED.subn(_clause, text)
        if not count:
            break
    text = _STRAY_BRACKET.sub("", text)
    text = _LIST_SLASH.sub("、", text)  # 3/6/12个月 -> 3、6、12个月
    text = text.replace("÷", "除以").replace("×", "乘以").replace("／", "或")
    text = _SERVICE_NUMBER.sub(lambda m: "".join(_DIGITS_YAO[int(d)] for d in m.group(1)), text)
    return text


__all__ = ["for_the_ear"]
