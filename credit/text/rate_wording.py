"""The one wording for rates shown to customers: ``年化利率(单利) 7.2%–23.9%``.

Every reply, the seed summary and the catalogue's own error messages format rates here,
so the compliant wording (annualised, simple interest, all fees included) cannot drift.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class RateRange(Protocol):
    @property
    def apr_min(self) -> Decimal: ...

    @property
    def apr_max(self) -> Decimal: ...


def format_percent(rate: Decimal | str | float, places: int = 2) -> str:
    """``Decimal("0.072")`` -> ``"7.2%"``; at most ``places`` decimals, no trailing zeros."""
    value = (Decimal(str(rate)) * 100).quantize(Decimal(1).scaleb(-places))
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def format_apr_range(product: RateRange) -> str:
    """The one wording for a product's rate range: ``"年化利率(单利) 7.2%–23.9%"``."""
    return f"年化利率(单利) {format_percent(product.apr_min)}–{format_percent(product.apr_max)}"


def format_apr(rate: Decimal | str) -> str:
    """A single rate in the same wording: ``"年化利率(单利) 12%"``."""
    return f"年化利率(单利) {format_percent(rate)}"
