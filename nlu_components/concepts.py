"""Concept tokens for the intent classifier (issue 22): what a message talks about, beyond its characters.

A char TF-IDF model only knows the words its training examples used.  A customer who writes "滞纳金" where
the training data says "违约金", or names a lender the data never mentions, shares no n-gram with the
examples that taught the intent.  :class:`ConceptTagger` adds one token per concept a message mentions
(``<fee>``, ``<late>``, ``<lender>`` …), the ordered pairs of neighbouring concepts (``<late>|<credit_report>``:
"逾期…上征信吗" is not "逾期…怎么还") and the shapes of the figures in it (``<amount>``, ``<term>``, ``<days>``,
``<appno>``), so what one synonym taught carries over to the others.

The groups are business vocabulary in ``concepts.yml``, plus two groups the catalogue owns: our products'
names (``<ours>``) and other lenders' names and aliases (``<lender>``).  A trained model carries its own copy of
the whole lexicon (see :meth:`ConceptTagger.to_json`), so serving never reads a lexicon that differs from the
one it was trained with.  Framework-free; the terms are an analyzer of :mod:`nlu_components.linear_model`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Sequence

import yaml

LEXICON_PATH = Path(__file__).with_name("concepts.yml")

_CN_NUM = "[0-9.一二两三四五六七八九十百千半几]+"
# figure shapes on the prepared text (half-width, lower-cased): the value does not matter, its kind does
SHAPES = (
    ("appno", re.compile(r"sq\d{4,}")),
    ("amount", re.compile(_CN_NUM + r"\s*(?:万|千|w|k|元|块)")),
    ("term", re.compile(_CN_NUM + r"\s*(?:期|个月|年)")),
    ("days", re.compile(_CN_NUM + r"\s*(?:天|日)")),
    ("percent", re.compile(r"[0-9.]+\s*%|百分之")),
)


def load_lexicon(path: Path = LEXICON_PATH) -> Dict[str, List[str]]:
    """``concepts.yml`` as concept -> words; a malformed file is an error, not an empty lexicon."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: expected a mapping concept -> list of words")
    lexicon: Dict[str, List[str]] = {}
    for concept, words in raw.items():
        if not isinstance(words, list) or not all(isinstance(w, (str, int)) for w in words):
            raise ValueError(f"{path}: {concept} must be a list of words")
        lexicon[str(concept)] = [str(w).lower() for w in words if str(w).strip()]
    return lexicon


class ConceptTagger:
    """Text -> concept terms (see the module docstring).  ``lexicon`` maps concept -> words."""

    def __init__(self, lexicon: Mapping[str, Sequence[str]]) -> None:
        self.lexicon = {concept: list(dict.fromkeys(words)) for concept, words in lexicon.items() if words}
        owner: Dict[str, str] = {}
        for concept, words in self.lexicon.items():
            for word in words:
                owner.setdefault(word, concept)  # a word listed twice belongs to the first group
        self._owner = owner
        alternatives = sorted(owner, key=len, reverse=True)  # longest first: 提前还款 before 还款
        self._pattern = re.compile("|".join(re.escape(w) for w in alternatives)) if alternatives else None

    @classmethod
    def build(cls, products: Iterable[str], lenders: Iterable[str], path: Path = LEXICON_PATH) -> "ConceptTagger":
        lexicon = load_lexicon(path)
        lexicon["ours"] = [p.lower() for p in products]
        lexicon["lender"] = [n.lower() for n in lenders]
        return cls(lexicon)

    def to_json(self) -> Dict[str, List[str]]:
        return {concept: list(words) for concept, words in self.lexicon.items()}

    def concepts(self, text: str) -> List[str]:
        """The concepts of ``text`` in order of appearance (figures included), one per mention."""
        found: List[tuple[int, str]] = []
        if self._pattern is not None:
            found.extend((m.start(), self._owner[m.group(0)]) for m in self._pattern.finditer(text))
        for name, pattern in SHAPES:
            found.extend((m.start(), name) for m in pattern.finditer(text))
        return [concept for _, concept in sorted(found)]

    def variants(self, texts: Sequence[str], labels: Sequence[str], seed: int, share: float,
                 exclude: Sequence[str] = ()) -> tuple[List[str], List[str]]:
        """Seeded training variants: in a share of the examples, one lexicon word swapped for another word
        of its group ("违约金" -> "滞纳金", "借呗" -> "微粒贷"), so the character features see the synonyms
        in context too.  Our own product names are not swapped (products differ in what they answer)."""
        import random

        rng = random.Random(seed)
        out_texts: List[str] = []
        out_labels: List[str] = []
        if self._pattern is None or share <= 0:
            return out_texts, out_labels
        for text, label in zip(texts, labels, strict=True):
            if label in exclude or rng.random() >= share:
                continue
            matches = [m for m in self._pattern.finditer(text) if self._owner[m.group(0)] != "ours"]
            if not matches:
                continue
            m = rng.choice(matches)
            others = [w for w in self.lexicon[self._owner[m.group(0)]] if w != m.group(0)]
            if others:
                out_texts.append(text[:m.start()] + rng.choice(others) + text[m.end():])
                out_labels.append(label)
        return out_texts, out_labels

    def __call__(self, text: str) -> List[str]:
        seq = self.concepts(text)
        terms = [f"<{c}>" for c in seq]
        terms.extend(f"<{a}>|<{b}>" for a, b in zip(seq, seq[1:], strict=False) if a != b)
        return terms
