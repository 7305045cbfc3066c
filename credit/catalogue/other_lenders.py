"""Other lenders' products that customers name (借呗, 花呗, 微粒贷 …): the catalogue section and its matcher.

The lexicon (canonical names and the ways customers write them) lives in ``credit/catalogue.yml``
under ``other_lenders:``, next to our own products' names and aliases, because it is business data
that ops edit and that must not clash with our own product names (checked in
:mod:`credit.catalogue.rules`).  What stays in code is Chinese usage, not business data:

* traditional characters fold to simplified one for one (:data:`T2S`), so offsets still index
  the raw text (``借唄`` -> 借呗);
* a few names are also ordinary words: "那就借呗" (then just borrow), "打白条" (write an IOU),
  "买金条" (buy a gold bar).  :data:`GUARDS` and the 呗 rule keep those out.
"""

from __future__ import annotations

import re
import string
from typing import Any, Optional

from pydantic import PrivateAttr, validator

from credit.catalogue.fields import Schema, Text
from credit.text.product_match import ProductMatcher

#: Traditional -> simplified for every character the lexicon's names use in another form.
T2S = str.maketrans(
    "唄貸東條滿樂團錢聯網還銀費蠻螞蟻寶貝帶馬消貳參億萬額債務單賬帳",
    "呗贷东条满乐团钱联网还银费蛮蚂蚁宝贝带马消贰参亿万额债务单账帐",
)

_CLAUSE_END = re.compile(r"^(?:$|[\s,.!?;:~，。！？；：…、）)]|[啊吧哈嘛呀])")
# a 呗-name that ends a clause after these is a sentence particle: "那就借呗", "先还呗", "直接花呗"
_PARTICLE_LEAD = re.compile(r"(?:[就先再去都也才便那]|直接|赶紧|随便|慢慢|早点|快点|干脆)$")

#: alias -> (text right before it that makes it an ordinary word, text right after it that does)
GUARDS: dict[str, tuple[Optional[re.Pattern[str]], Optional[re.Pattern[str]]]] = {
    "白条": (re.compile(r"打[了个张过]?$"), None),
    "金条": (re.compile(r"(?:黄|买|卖|投资|存|根|块|条|克)$"), re.compile(r"^(?:价|多少钱一克|一克|首饰|项链|回收)")),
}

PLACEHOLDERS = {"lender", "company", "reviewing", "disbursement", "summary"}


def fold(text: str) -> str:
    """Traditional -> simplified for the lexicon's characters; one character in, one out."""
    return text.translate(T2S)


class OtherLender(Schema):
    name: Text
    aliases: tuple[Text, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _templates_ok(value: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    unknown = fields - PLACEHOLDERS
    if unknown:
        raise ValueError(f"有未知占位符 {', '.join(sorted(unknown))}；可用 {', '.join(sorted(PLACEHOLDERS))}")
    return value


class OtherLenders(Schema):
    """``other_lenders:`` in the catalogue: ``names`` (canonical name -> aliases) and the reply texts."""

    names: tuple[OtherLender, ...]
    not_us: Text
    not_us_voice: Text
    ours_follow: Text
    ours_follow_voice: Text
    identity: Text
    identity_voice: Text
    progress_ours: Text

    _matcher: Optional[ProductMatcher] = PrivateAttr(default=None)

    _placeholders = validator("not_us", "not_us_voice", "ours_follow", "ours_follow_voice", "identity",
                              "identity_voice", "progress_ours", allow_reuse=True)(_templates_ok)

    @validator("names", pre=True)
    def _lexicon(cls, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, dict) or not value:
            raise ValueError("应为非空映射：规范名 -> 别名列表")
        entries = []
        for name, aliases in value.items():
            if aliases is None:
                aliases = []
            if not isinstance(aliases, list):
                raise ValueError(f"中 {name} 的别名应为列表")
            entries.append({"name": name, "aliases": aliases})
        return entries

    @validator("names")
    def _unique(cls, value: tuple[OtherLender, ...]) -> tuple[OtherLender, ...]:
        owners: dict[str, str] = {}
        for lender in value:
            for alias in lender.names:
                owner = owners.setdefault(fold(alias).lower(), lender.name)
                if owner != lender.name:
                    raise ValueError(f"名称或别名 {alias!r} 同时属于 {owner} 和 {lender.name}")
        return value

    @property
    def matcher(self) -> ProductMatcher:
        """Every name and alias -> its canonical name (built on first use)."""
        if self._matcher is None:
            table = {fold(alias): lender.name for lender in self.names for alias in lender.names}
            self._matcher = ProductMatcher(table)
        return self._matcher

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, canonical name)`` of every lender named in ``text`` (width-folded, raw offsets)."""
        folded = fold(text)
        return [(start, end, name) for start, end, name in self.matcher.spans(folded)
                if not _ordinary_word(folded, start, end)]

    def find_all(self, text: str) -> list[str]:
        """The canonical names in ``text``, each once, in order of appearance."""
        found: list[str] = []
        for _, _, name in sorted(self.spans(text)):
            if name not in found:
                found.append(name)
        return found


def _ordinary_word(text: str, start: int, end: int) -> bool:
    """Whether the name at ``text[start:end]`` is used as an ordinary word here."""
    alias = text[start:end].lower()
    before, after = text[:start], text[end:]
    guard = GUARDS.get(alias)
    if guard is not None:
        not_after, not_before = guard
        if (not_after and not_after.search(before)) or (not_before and not_before.search(after)):
            return True
    if alias.endswith("呗") and _CLAUSE_END.match(after):
        return bool(_PARTICLE_LEAD.search(before.rstrip()))
    return False
