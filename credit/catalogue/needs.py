"""Need discovery: what a customer wants to borrow for, how much, how long, and what fits.

The handbook's agent asks the purpose, then amount and term, then (optionally) income and
existing monthly repayments, and only then names a product, with that product's materials.
The purposes, the words that reveal them, the questions and the affordability wording are
business text that ops edit, so they live in ``credit/catalogue.yml`` (section ``needs:``;
each product lists the ``purposes`` it serves).  This module holds their schema and the purpose
finder used by the entity extractor; :mod:`credit.needs.matching` matches products.
"""
from __future__ import annotations

import re
from typing import Optional

from credit.catalogue.fields import Code, Patterns, Schema, Text
from credit.catalogue.other_lenders import fold
from credit.text.halfwidth import normalize

#: Slot value for a question the customer chose not to answer ("跳过", "不方便说").
SKIPPED = "skip"


class Purpose(Schema):
    code: Code  # entity value, and what products list under ``purposes``
    name: Text  # how replies name it ("装修")
    patterns: Patterns  # the customer's words for it
    note: Optional[Text] = None  # said instead of a product when no product serves this purpose


class NeedTexts(Schema):
    """Catalogue section ``needs:``."""

    purposes: tuple[Purpose, ...]
    intro: Text  # opens the flow: why we ask, and that every question can be skipped
    ask_purpose: Text
    ask_amount: Text
    ask_term: Text
    ask_income: Text
    ask_debt: Text
    skip_patterns: Patterns  # "跳过", "不方便说", "直接推荐": this question is skipped
    stop_patterns: Patterns  # "不借了", "算了": the flow ends without a recommendation
    unclear: Text  # a figure was expected and none was found
    within_means: Text  # {share}: monthly repayments as a share of income
    over_means: Text  # {share}
    no_income: Text  # affordability advice without figures
    no_fit: Text  # nothing fits the amount or term exactly
    voice_intro: Text

    def purpose_spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, code)`` of every purpose named in the width-folded ``text``."""
        folded = fold(text)
        found = []
        for purpose in self.purposes:
            for pattern in purpose.patterns:
                for match in re.finditer(pattern, folded):
                    if match.end() > match.start():
                        found.append((match.start(), match.end(), purpose.code))
        return found

    def purpose_in(self, text: Optional[str]) -> Optional[str]:
        """The purpose code a message names (the earliest), or None."""
        spans = self.purpose_spans(normalize(text or "")[:2000])
        return min(spans)[2] if spans else None

    def purpose(self, code: Optional[str]) -> Optional[Purpose]:
        return next((p for p in self.purposes if p.code == code), None)

    def is_skip(self, text: Optional[str]) -> bool:
        return _any(self.skip_patterns, text)

    def is_stop(self, text: Optional[str]) -> bool:
        return _any(self.stop_patterns, text)


def _any(patterns: tuple[str, ...], text: Optional[str]) -> bool:
    folded = fold(normalize(text or "")[:500]).strip()
    return any(re.search(p, folded) for p in patterns)


# "想借点钱""哪个产品适合我""借5万做生意": a need to discover, not a conditions question
_WANTS = re.compile(r"想借|要借|借点|借些|借一点|借一笔|想贷|想办|贷款|推荐|适合|哪个产品|什么产品|哪款|哪种产品|"
                    r"怎么申请|如何申请|想申请|申请一下|怎么借|缺钱|需要钱|用钱")
_CONDITIONS = re.compile(r"条件|材料|资料|要求|年龄|征信|资格|门槛|需要什么|要什么|被拒|拒绝|没通过|社保|公积金|流水")


def asks_conditions(text: Optional[str]) -> bool:
    """"装修贷款需要什么材料": a conditions question, answered as one even when it names a purpose."""
    return bool(_CONDITIONS.search(normalize(text or "")[:500]))


def wants_to_borrow(text: Optional[str]) -> bool:
    """A customer describing what they want to borrow (not asking the conditions or a refusal)."""
    folded = normalize(text or "")[:500]
    return bool(_WANTS.search(folded)) and not _CONDITIONS.search(folded)


__all__ = ["asks_conditions", "wants_to_borrow", "SKIPPED", "Purpose", "NeedTexts"]
