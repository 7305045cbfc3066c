"""The one product matcher: every product's name, aliases and code, each mapped to its code.

The catalogue builds it (:attr:`credit.catalogue.loader.Catalogue.product_matcher`) and both
places that recognise a product in what a customer wrote ask it:

* the entity extractor (:meth:`ProductMatcher.spans`) needs every occurrence at its
  exact position in the message, so it matches the text as typed (width-folded), and
  latin aliases only as whole words ("anjia" is not inside "xanjiay");
* the catalogue and the answers (:meth:`ProductMatcher.find`) need one product for a
  slot value or a question, so spaces are ignored ("随 心 借") and the longest name,
  then the earliest, wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from credit.text.halfwidth import normalize

MIN_SPAN_CHARS = 2  # a one-character alias would light up inside unrelated words
_SPACES = re.compile(r"\s+")


class NamedProduct(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def names(self) -> tuple[str, ...]: ...


class ProductMatcher:
    """Looks product names up in text; built once per catalogue."""

    def __init__(self, names: Mapping[str, str]) -> None:
        """``names`` maps each name, alias or code to a product code; the first code wins a clash."""
        table: dict[str, str] = {}
        for name, code in names.items():
            key = normalize(name.strip()).lower()
            if key:
                table.setdefault(key, code)
        # longest first, so "随心借款" is tried before "随心借"
        self._table = tuple(sorted(table.items(), key=lambda item: (-len(item[0]), item[0])))

    @classmethod
    def for_products(cls, products: Iterable[NamedProduct]) -> ProductMatcher:
        names: dict[str, str] = {}
        for product in products:
            for name in (*product.names, product.code):
                names.setdefault(name, product.code)
        return cls(names)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, code)`` of every occurrence in ``text`` (already width-folded)."""
        lowered = text.lower()
        found: list[tuple[int, int, str]] = []
        for alias, code in self._table:
            if len(alias) < MIN_SPAN_CHARS:
                continue
            start = lowered.find(alias)
            while start >= 0:
                end = start + len(alias)
                if alias.isascii() and (_is_latin_word_char(lowered, start - 1) or _is_latin_word_char(lowered, end)):
                    start = lowered.find(alias, start + 1)
                    continue
                found.append((start, end, code))
                start = lowered.find(alias, end)
        return found

    def find(self, text: str) -> str | None:
        """The code of the product named in ``text``, spaces and case ignored; longest, then earliest."""
        if not text:
            return None
        lowered = _SPACES.sub("", text).lower()
        best: tuple[tuple[int, int], str] | None = None
        for alias, code in self._table:
            pos = lowered.find(alias)
            if pos >= 0 and (best is None or (len(alias), -pos) > best[0]):
                best = ((len(alias), -pos), code)
        return best[1] if best else None


def _is_latin_word_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()
