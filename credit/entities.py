"""Every entity in a message: numbers and identifiers, income and monthly repayments, products,
other lenders, complaint categories and loan purposes.

This is what :class:`nlu_components.credit_entities.CreditEntityExtractor` adds to a
parsed message.  Each kind has its own finder (:mod:`credit.text.numbers`, the catalogue's
:class:`credit.text.product_match.ProductMatcher` and :mod:`credit.catalogue.other_lenders` lexicon,
:mod:`credit.tickets.categories`) and
:func:`credit.text.spans.extract` settles overlaps between them.
"""

from __future__ import annotations

import logging
from functools import lru_cache, partial

from credit.catalogue.loader import load_catalogue
from credit.catalogue.other_lenders import OtherLenders
from credit.needs.figures import figure_candidates
from credit.text.numbers import NumberMode, number_candidates
from credit.text.product_match import ProductMatcher
from credit.text.spans import Candidate, Priority, Span, extract
from credit.tickets.categories import complaint_candidates, unique_categories

logger = logging.getLogger(__name__)

__all__ = ["Span", "extract_all", "other_lenders", "product_matcher"]


@lru_cache(maxsize=1)
def product_matcher() -> ProductMatcher:
    """The packaged catalogue's matcher; an empty one if the catalogue cannot be loaded."""
    try:
        return load_catalogue().product_matcher
    except Exception:  # noqa: BLE001 - a broken catalogue must not break NLU
        logger.exception("could not load the product catalogue; product entities disabled")
        return ProductMatcher({})


def product_candidates(t: str) -> list[Candidate]:
    """Every product name, alias or code in the folded text ``t``."""
    return [
        (Priority.PRODUCT, Span("product", code, start, end, t[start:end]))
        for start, end, code in product_matcher().spans(t)
    ]


@lru_cache(maxsize=1)
def other_lenders() -> OtherLenders | None:
    """The packaged catalogue's other-lender lexicon; None if the catalogue cannot be loaded."""
    try:
        return load_catalogue().other_lenders
    except Exception:  # noqa: BLE001 - a broken catalogue must not break NLU
        logger.exception("could not load the product catalogue; other_lender entities disabled")
        return None


def other_lender_candidates(t: str) -> list[Candidate]:
    """Every other lender's product named in the folded text ``t`` (value: the canonical name)."""
    lexicon = other_lenders()
    if lexicon is None:
        return []
    return [
        (Priority.OTHER_LENDER, Span("other_lender", name, start, end, t[start:end]))
        for start, end, name in lexicon.spans(t)
    ]


def purpose_candidates(t: str) -> list[Candidate]:
    """Every loan purpose named in the folded text ``t`` (value: the purpose code)."""
    try:
        needs = load_catalogue().needs
    except Exception:  # noqa: BLE001 - a broken catalogue must not break NLU
        return []
    return [(Priority.PURPOSE, Span("purpose", code, start, end, t[start:end]))
            for start, end, code in needs.purpose_spans(t)]


def extract_all(text: str | None) -> list[Span]:
    """All entities, non-overlapping, in text order.

    id_last4 only with ID context (身份证/证件/后四位/尾号 not preceded by
    手机/电话) or when the message essentially *is* the 4-char code;
    phone_last4 only with 手机/电话 context; otp_code with 验证码/code context
    or a message that is just 6 digits; amount needs a currency unit, a
    magnitude (万/千/k/w) or money context (借/贷/额度…).
    """
    finders = [partial(number_candidates, mode=NumberMode()), figure_candidates, product_candidates,
               other_lender_candidates, complaint_candidates, purpose_candidates]
    return unique_categories(extract(text, finders))
