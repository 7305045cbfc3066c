"""Homophone and typo repair from pypinyin's readings (a confusion dictionary built from package data)."""
from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Iterable

from pypinyin import Style
from pypinyin import pinyin as _pinyin


@lru_cache(maxsize=20_000)
def readings(ch: str) -> tuple[str, ...]:
    """Tone-less readings of one character (all heteronyms); non-CJK characters read as themselves."""
    if not "\u4e00" <= ch <= "\u9fff":
        return (ch,)
    return tuple(sorted(set(_pinyin(ch, style=Style.NORMAL, heteronym=True)[0])))


class HomophoneRepair:
    """Replaces a run of 2-5 characters that sounds like a domain term: 愈期 -> 逾期, 帮定 -> 绑定,
    严正码 -> 验证码, 随新借 -> 随心借.  At most one differing character in a 2-character term, and at
    least one character must already match in longer ones, so ordinary words are rarely touched;
    ``keep`` lists real words that must never be rewritten (提钱 is not 提前)."""

    def __init__(self, terms: Iterable[str], keep: Iterable[str] = ()) -> None:
        self.terms = {t for t in terms if 2 <= len(t) <= 5}
        self.keep = set(keep)
        self.index: dict[tuple[str, ...], list[str]] = {}
        for term in sorted(self.terms):
            for combo in itertools.product(*(readings(c) for c in term)):
                self.index.setdefault(combo, []).append(term)
        self.lengths = sorted({len(t) for t in self.terms}, reverse=True)
        self.first = {combo[0] for combo in self.index}

    def _match(self, s: str) -> str | None:
        if s in self.terms or s in self.keep:
            return None
        for combo in itertools.product(*(readings(c) for c in s)):
            for term in self.index.get(combo, ()):
                same = sum(a == b for a, b in zip(s, term, strict=True))
                if same >= 1:
                    return term
        return None

    def __call__(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            if self.first.isdisjoint(readings(text[i])):
                out.append(text[i])
                i += 1
                continue
            for n in self.lengths:
                s = text[i:i + n]
                if len(s) < n or not all("\u4e00" <= c <= "\u9fff" for c in s):
                    continue
                if s in self.terms:
                    out.append(s)
                    i += n
                    break
                term = self._match(s)
                if term is not None:
                    out.append(term)
                    i += n
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)
