"""The declarative base, column types, shared constants and clock helpers of the credit database.

* ``DATABASE_URL`` selects the database; the default is ``sqlite:///var/credit.db``
  resolved against the project root (``var/`` is created on demand).  Relative SQLite
  paths in ``DATABASE_URL`` are resolved against the project root as well, so the action
  server, the tools and the tests all see the same file whatever their working directory.
* SQLite connections use WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions, so
  several processes (action server, seed tool, ops scripts) can share one file and a
  read-modify-write (failure counters, OTP attempts) cannot interleave.
* Timestamps are stored as naive UTC and returned as timezone-aware UTC datetimes
  (``UtcDateTime``); money and rates are exact ``Decimal`` values (``Money``/``Rate``).
* Only portable SQL: no SQLite-only statements in the models or the service.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    Numeric,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite:///var/credit.db"
SQLITE_BUSY_TIMEOUT_MS = 5000

# Enumerations kept as plain strings (portable; validated in the service layer).
STAGES = ("reviewing", "pending_signing", "disbursed", "declined", "cancelled")
TICKET_KINDS = (
    "complaint",
    "negotiation",
    "settlement_certificate",
    "cancel_request",
    "account_request",
    "callback",
    "suggestion",  # a customer's improvement idea for ops to review; not a complaint
)
VERIFICATION_LEVELS = ("basic", "strong")
LOAN_STATUSES = ("active", "settled", "overdue")

Base = declarative_base()


def utcnow() -> datetime:
    """Current time as an aware UTC datetime (the service's default clock)."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


# --------------------------------------------------------------------------- types


class UtcDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # defensive: raw SQLite text
            value = datetime.fromisoformat(value)
        return as_utc(value)


class _ExactDecimal(TypeDecorator):
    """NUMERIC(p, s) returning ``Decimal`` quantised to the scale.

    PostgreSQL returns ``Decimal`` natively.  SQLite has no decimal type: values travel
    as floats, which is exact enough for these magnitudes once re-quantised through
    ``repr`` (shortest round-trip string), and this avoids SQLAlchemy's lossy-decimal
    warning.  The column stays numeric in SQL on both backends.
    """

    impl = Numeric
    cache_ok = True
    precision = 16
    scale = 2

    def __init__(self) -> None:
        super().__init__(precision=self.precision, scale=self.scale)
        self._quantum = Decimal(1).scaleb(-self.scale)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=False))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
        dec = dec.quantize(self._quantum)
        return float(dec) if dialect.name == "sqlite" else dec

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        dec = value if isinstance(value, Decimal) else Decimal(repr(value))
        return dec.quantize(self._quantum)


class Money(_ExactDecimal):
    """Yuan amounts, two decimals."""

    cache_ok = True
    precision = 16
    scale = 2


class Rate(_ExactDecimal):
    """Annualised rates as fractions (0.12 = 12%), six decimals."""

    cache_ok = True
    precision = 9
    scale = 6
