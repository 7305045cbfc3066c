"""Chinese numerals: digits read out one by one (幺二三) and numbers with magnitudes (一万五).

Plain Python plus cn2an; the extractors in :mod:`credit.text.numbers` build their character
classes from the constants here, and :func:`to_number` turns a matched expression into
a number.
"""

from __future__ import annotations

from functools import lru_cache

import cn2an

# digit-by-digit spoken forms (幺 = 1 on the phone); 两 is a quantity word, not
# used when reading out digits, so it is not here.
SPOKEN_DIGITS = {
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
DG = "0-9" + "".join(SPOKEN_DIGITS)  # body of a digit character class
# characters that make a digit run part of a longer number
NUMCH = DG + "两十百千万亿点."
CN_NUM_CHARS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
CN_START = "零〇一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾"  # may start a number
CN_MAGNITUDE = set("十百千万亿拾佰仟")
_UNITS = {"万": 10_000, "千": 1_000, "百": 100, "亿": 100_000_000}


def spoken_to_digits(s: str) -> str:
    """'幺二三叉' -> '123X'; drops spaces and hyphens; '*'/'x'/'叉' -> 'X'."""
    out = []
    for c in s:
        if c in SPOKEN_DIGITS:
            out.append(SPOKEN_DIGITS[c])
        elif "0" <= c <= "9":
            out.append(c)
        elif c in "xX*叉":
            out.append("X")
    return "".join(out)


@lru_cache(maxsize=4096)
def to_number(expr: str) -> float | None:
    """'1.5万' / '一万五' / '5k' / '20,000' / '一点五万' -> number, else None."""
    s = expr.replace(",", "").strip()
    if not s:
        return None
    s = s.replace("k", "千").replace("K", "千").replace("w", "万").replace("W", "万")
    # digit-by-digit Chinese ("五零零零") has no magnitude characters
    if len(s) > 1 and not (CN_MAGNITUDE & set(s)) and "点" not in s and "." not in s:
        if all(c in SPOKEN_DIGITS or "0" <= c <= "9" for c in s) and not s.isdigit():
            return float(spoken_to_digits(s))
    if s.isdigit():
        return float(s)
    for mode in ("smart", "normal"):
        try:
            return float(cn2an.cn2an(s, mode))
        except Exception:  # noqa: BLE001 - cn2an raises ValueError/KeyError/...
            pass
    # trailing magnitude on a decimal mantissa: "一点五万"
    if len(s) > 1 and s[-1] in _UNITS:
        base = to_number(s[:-1])
        if base is not None:
            return base * _UNITS[s[-1]]
    return None
