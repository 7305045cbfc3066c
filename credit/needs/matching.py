"""Which products fit a customer's need: the purpose first (every product when it is unknown), then
those whose amount and term ranges hold the customer's figures.

The debt-to-income figure is only a hint for borrowing within one's means: it never decides,
refuses or promises anything (the reply says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from credit.catalogue.loader import Catalogue, Product
from credit.replies import DEFAULT_EXAMPLE_AMOUNT, DEFAULT_EXAMPLE_TERM

#: Share of monthly income above which the reply advises borrowing less or longer (the catalogue's
#: own risk_signals.high_debt reply states the same "不超过月收入的一半").
COMFORTABLE_SHARE = Decimal("0.5")


@dataclass(frozen=True)
class Need:
    """What the customer told us; None = not asked or skipped."""

    purpose: Optional[str] = None
    amount: Optional[int] = None
    term: Optional[int] = None
    income: Optional[int] = None  # monthly, yuan
    monthly_debt: Optional[int] = None  # existing repayments per month, yuan


@dataclass(frozen=True)
class Match:
    product: Product
    amount: int  # the amount the example uses (the customer's, or the nearest the product lends)
    term: int  # the term the example uses (the customer's, or the nearest the product offers)
    fits: bool  # the customer's own amount and term are both within the product's ranges


def match_products(cat: Catalogue, need: Need, limit: int = 2) -> list[Match]:
    """Products for the purpose (all when it is unknown), those that fit the figures first."""
    serving = [p for p in cat.products if need.purpose is None or need.purpose in p.purposes]
    if not serving:  # a purpose none of our products serves: say so, show the general one
        serving = [p for p in cat.products if not p.purposes or "consumption" in p.purposes]
    matches = [_match(p, need) for p in serving]
    matches.sort(key=lambda m: (not m.fits, serving.index(m.product)))
    return matches[:limit]


def _match(product: Product, need: Need) -> Match:
    amount = need.amount or int(max(product.amount_min, min(product.amount_max, Decimal(DEFAULT_EXAMPLE_AMOUNT))))
    amount = int(max(product.amount_min, min(product.amount_max, Decimal(amount))))
    term = need.term or DEFAULT_EXAMPLE_TERM
    if not product.supports_term(term):
        term = min(product.terms, key=lambda t: (abs(t - term), t))
    fits = (need.amount is None or product.amount_in_range(need.amount)) and (
        need.term is None or product.supports_term(need.term))
    return Match(product, amount, term, fits)


def repayment_share(income: Optional[int], monthly_debt: Optional[int], new_payment: Decimal) -> Optional[Decimal]:
    """(existing repayments + the new monthly payment) / monthly income; None without an income."""
    if not income or income <= 0:
        return None
    return (Decimal(monthly_debt or 0) + new_payment) / Decimal(income)


def serves(product: Product, purpose: Optional[str]) -> bool:
    return purpose is None or purpose in product.purposes


__all__ = ["COMFORTABLE_SHARE", "Need", "Match", "match_products", "repayment_share", "serves"]
