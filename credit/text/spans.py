"""Entity spans and the one rule that settles overlaps between them.

Finders (numbers, products, other lenders, complaint categories) each propose candidate spans on the
width-folded text with a :class:`Priority`; :func:`extract` keeps, in priority order
(then longest, then earliest), every candidate that does not overlap one already kept.
Because :func:`credit.text.halfwidth.normalize` is length-preserving, every kept span's
``start``/``end`` index the caller's original text, and ``raw`` is taken from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

from credit.text.halfwidth import normalize

MAX_TEXT_LENGTH = 20_000  # longer input is truncated before extraction


@dataclass(frozen=True)
class Span:
    """One extracted entity. ``start``/``end`` index into the original text."""

    entity: str
    value: str
    start: int
    end: int
    raw: str


class Priority(IntEnum):
    """Which candidate wins an overlap: lower first."""

    APPLICATION_ID = 0  # also ticket numbers (TK + 12 digits)
    PHONE = 1
    BARE_APPLICATION_ID = 2
    OTHER_LENDER = 3  # before numbers: "360借条" is a name, not an amount
    FIGURE = 4  # income / existing monthly repayments: "月收入八千" is not a loan amount
    TERM = 5
    AMOUNT_WITH_UNIT = 6
    OTP = 7
    CODE4 = 8
    AMOUNT_IN_CONTEXT = 9
    PRODUCT = 10
    COMPLAINT = 11
    PURPOSE = 12  # "小微周转贷" is a product before "周转" is a purpose

Candidate = tuple[Priority, Span]
Finder = Callable[[str], list[Candidate]]


def extract(text: str | None, finders: Iterable[Finder]) -> list[Span]:
    """Run ``finders`` on the folded text; the non-overlapping winners in text order."""
    if not text:
        return []
    original = text[:MAX_TEXT_LENGTH]
    folded = normalize(original)
    candidates = [candidate for find in finders for candidate in find(folded)]
    candidates.sort(key=lambda c: (c[0], -(c[1].end - c[1].start), c[1].start))
    taken: list[Span] = []
    occupied = bytearray(len(folded) + 1)
    for _, span in candidates:
        if span.end <= span.start or any(occupied[span.start : span.end]):
            continue
        taken.append(span)
        occupied[span.start : span.end] = b"\x01" * (span.end - span.start)
    taken.sort(key=lambda s: s.start)
    # raw from the caller's text (normalize is length-preserving)
    return [Span(s.entity, s.value, s.start, s.end, original[s.start : s.end]) for s in taken]


def first(spans: list[Span], entity: str) -> str | None:
    """Value of the first span of ``entity``, if any."""
    for span in spans:
        if span.entity == entity:
            return span.value
    return None
