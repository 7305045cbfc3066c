"""Jargon in plain words (the catalogue section ``glossary:``), and repayment methods compared on the
customer's own figures.

A question is an explanation request when it names a term (年化, 单利, 征信, 罚息, a repayment
method) *and* asks what it means or how two compare (是什么, 什么意思, 区别, 哪个 …); "年化利率多少"
is still a rate question.  The explanations are business text that ops edit, so they live in the
catalogue; the comparison is computed by :mod:`credit.calculators`.
"""
from __future__ import annotations

import re
from typing import Optional

from credit.catalogue.fields import Code, Patterns, Schema, Text

ASKS_MEANING = re.compile(r"是什么|什么意思|啥意思|是啥|啥是|什么是|区别|不同|哪个|哪种|哪一个|怎么选|解释|不懂|不明白|"
                          r"有什么用|怎么理解|划算|利息少|利息多|省钱")
METHOD_WORDS = {"equal_installment": "等额本息", "equal_principal": "等额本金", "interest_only": "先息后本"}


class Concept(Schema):
    code: Code
    name: Text
    patterns: Patterns
    plain: Text


class Glossary(Schema):
    concepts: tuple[Concept, ...]

    def concepts_in(self, text: Optional[str]) -> list[Concept]:
        """The terms a message asks to have explained (none unless it asks what they mean)."""
        if not text or not ASKS_MEANING.search(text):
            return []
        return [c for c in self.concepts if any(re.search(p, text) for p in c.patterns)
                and not any(_asks_figure(text, m) for p in c.patterns for m in re.finditer(p, text))]


def _asks_figure(text: str, m: re.Match) -> bool:
    """"你们年化多少" asks the figure, not what the word means."""
    return bool(_FIGURE_ASKED.match(text, m.end()))


_FIGURE_ASKED = re.compile(r"\s*(?:利率)?\s*(?:是|大概|一般|大约|能)?\s*(?:多少|几)")


def methods_in(text: Optional[str]) -> list[str]:
    """Repayment method codes named in a question that asks what they mean or which is better."""
    if not text or not ASKS_MEANING.search(text):
        return []
    return [code for code, word in METHOD_WORDS.items() if word in text]
