"""Text helpers: normalisation for comparisons, cleaning for training files, masking.

* :func:`normalize` — the comparison key for "same text" (contradictions, duplicates):
  NFKC, case-folded, without punctuation, symbols (emoji), spaces and control characters.
* :func:`near_key` — a looser key for "near-identical" texts in the export: additionally
  digits become ``0``, modal particles (啊呀吧呢嘛哦啦吗了的哈) are dropped and runs of the
  same character collapse (``急急急`` = ``急``).
* :func:`clean_text` — the form written to training data: one line, no control/format
  characters, whitespace collapsed.
* :func:`mask_text` — :func:`credit.text.masking.mask_pii` (ID, mobile, bank card, OTP) plus
  simple name detection (:func:`find_names`): a common surname after 我叫/名字是/姓名/户名
  (or after 我是/本人 when the name ends the clause) becomes ``张某``.
* :func:`neutralise_cell` — spreadsheet-injection guard for exported cells.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List

from credit.text.masking import find_pii, mask_pii

_PARTICLES = set("啊呀吧呢嘛哦啦吗了的哈嗯哇么")
_COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "司徒", "尉迟", "公孙", "长孙")
_SURNAME = "(?:" + "|".join(_COMPOUND_SURNAMES) + f"|[{_COMMON_SURNAMES}])"
_MOU = "某"
# any CJK ideograph except 某 (so an already masked 张某 is not a name again)
_GIVEN = "[\u4e00-" + chr(ord(_MOU) - 1) + chr(ord(_MOU) + 1) + "-\u9fff]"
# Strong cues: whatever follows is a name.
_STRONG = re.compile(r"(?:我叫|叫我|我的名字是|名字是|名字叫|姓名(?:是|为|[:：])?|户名(?:是|为|[:：])?"
                     rf"|持卡人(?:是|[:：])?)\s*"
                     rf"(?P<name>{_SURNAME}{_GIVEN}{{1,2}})")
# Weak cues: only when the name ends the clause (我是李四 / 本人王五，…), not 我是马上要还款.
_WEAK = re.compile(rf"(?:我是|本人是?)\s*(?P<name>{_SURNAME}{_GIVEN}{{1,2}})(?=$|[\s，。！？,.!?；;、~～])")


@dataclass(frozen=True)
class NameMatch:
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        surname = next((c for c in _COMPOUND_SURNAMES if self.value.startswith(c)), self.value[0])
        return surname + _MOU


def find_names(text: str) -> List[NameMatch]:
    matches: List[NameMatch] = []
    for pattern in (_STRONG, _WEAK):
        for m in pattern.finditer(text or ""):
            start, end = m.span("name")
            if not any(start < o.end and o.start < end for o in matches):
                matches.append(NameMatch(start, end, m.group("name")))
    return sorted(matches, key=lambda m: m.start)


def mask_names(text: str) -> str:
    for match in reversed(find_names(text)):
        text = text[:match.start] + match.masked + text[match.end:]
    return text


def mask_text(text: str) -> str:
    """Mask ID/phone/card/OTP (credit.text.masking) and detectable names."""
    return mask_names(mask_pii(text))


def personal_data_kinds(text: str) -> List[str]:
    """Chinese names of the kinds of personal data found in ``text`` (empty if none)."""
    labels = {"id_number": "身份证号", "mobile": "手机号", "bank_card": "银行卡号", "otp": "验证码"}
    kinds = [labels.get(m.kind, m.kind) for m in find_pii(text)]
    if find_names(text):
        kinds.append("姓名")
    return sorted(set(kinds), key=kinds.index)


def _is_noise(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "PSZC"


def normalize(text: str) -> str:
    """Comparison key for "the same text" (an emoji-only text keeps its symbols: 👌 is not 😡)."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    key = "".join(ch for ch in folded if not _is_noise(ch))
    return key or "".join(folded.split())


def near_key(text: str) -> str:
    """Looser key for near-identical texts (export de-duplication)."""
    key = re.sub(r"\d", "0", normalize(text).replace("*", "0"))
    key = "".join(ch for ch in key if ch not in _PARTICLES)
    return re.sub(r"(.)\1+", r"\1", key) or normalize(text)


_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c\t]+")


def clean_text(text: str) -> str:
    """One line, no control or format characters, single spaces, stripped."""
    text = unicodedata.normalize("NFC", str(text))
    text = _LINE_BREAKS.sub(" ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    return re.sub(r"\s+", " ", text).strip()


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise_cell(value: str) -> str:
    """Prefix ``'`` to a text that a spreadsheet would run as a formula (CSV/Excel injection)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def looks_like_formula(value: str) -> bool:
    return value.lstrip(" ").startswith(FORMULA_PREFIXES)
