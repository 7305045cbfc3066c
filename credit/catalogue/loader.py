"""Product and service catalogue: the typed, validated view of ``credit/catalogue.yml``.

``catalogue.yml`` is the single source of truth for products, annualised rate
ranges, terms, repayment methods, amounts, prepayment fee rules, the hotline,
SLAs, application stages, overdue rules, limits, eligibility, repayment rules,
the settlement-certificate process and account-service procedures.

Rates are ``Decimal`` fractions (``Decimal("0.072")`` is 7.2%) and always mean
the all-in annualised rate (年化利率, 单利: interest plus every fee, computed on
the principal actually outstanding, i.e. monthly IRR x 12) required by the PBOC
announcement 〔2021〕第3号. Amounts are ``Decimal`` yuan.

The loader validates the file against the schema (:mod:`credit.catalogue.schema`)
and raises :class:`CatalogueError` with a message naming the YAML path when, for
example, a product's ``apr_max`` exceeds ``legal_cap_apr`` (the 24% judicial
protection line), ``apr_min > apr_max``, a repayment method is unknown, a product
has no terms, a field is unknown or a value has the wrong type.

Show a rate range only through :func:`format_apr_range`, so every reply uses the
same compliant wording (``年化利率(单利) 7.2%–23.9%``).

This module is the catalogue's public face: the models, look-ups and wording are
defined next door and importable from here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from credit.catalogue.contact import Hotline
from credit.catalogue.fields import CatalogueError, UnknownProductError, describe
from credit.catalogue.products import SUPPORTED_METHODS, PrepaymentRule, Product, RepaymentMethod
from credit.catalogue.schema import REQUIRED_SLAS, REQUIRED_STAGES, Catalogue
from credit.catalogue.sections import (
    AccountProcedure,
    DemoLoan,
    Eligibility,
    LimitsInfo,
    OverdueRules,
    PrepaymentInfo,
    RepaymentRules,
    SettlementCertificateProcess,
    Sla,
    Stage,
)
from credit.text.rate_wording import format_apr, format_apr_range, format_percent

__all__ = [
    "DEFAULT_PATH", "REQUIRED_SLAS", "REQUIRED_STAGES", "SUPPORTED_METHODS",
    "AccountProcedure", "Catalogue", "CatalogueError", "DemoLoan", "Eligibility", "Hotline", "LimitsInfo",
    "OverdueRules", "PrepaymentInfo", "PrepaymentRule", "Product", "RepaymentMethod", "RepaymentRules",
    "SettlementCertificateProcess", "Sla", "Stage", "UnknownProductError",
    "format_apr", "format_apr_range", "format_percent", "load_catalogue", "parse_catalogue",
]

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "catalogue.yml"


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue; ``None`` -> the packaged ``catalogue.yml`` (cached)."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Catalogue:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"无法读取产品目录 {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"产品目录 {path} 不是合法的 YAML: {exc}") from exc
    return parse_catalogue(raw, source=str(path))


def parse_catalogue(raw: Any, source: str = "<catalogue>") -> Catalogue:
    """Validate an already-parsed YAML mapping and build a :class:`Catalogue`."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"产品目录 {source} 无效: catalogue 应为映射 (mapping)")
    try:
        return Catalogue.validate(raw)
    except ValidationError as exc:
        raise CatalogueError(f"产品目录 {source} 无效: {describe(exc, raw)}") from None
    except ValueError as exc:  # the top level itself (e.g. a non-text key)
        raise CatalogueError(f"产品目录 {source} 无效: catalogue {exc}") from None
