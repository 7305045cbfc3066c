"""Database models and engine/session helpers (SQLAlchemy 1.4, SQLite or PostgreSQL).

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

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session, declarative_base, relationship
from sqlalchemy.pool import QueuePool, StaticPool
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


# --------------------------------------------------------------------------- models


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    id_last4 = Column(String(4), nullable=False)  # upper-case, 'X' allowed last
    id_number_masked = Column(String(32), nullable=False)  # never the full ID number
    phone = Column(String(20), nullable=False)  # full: needed for SMS, never shown unmasked
    wechat_openid = Column(String(128), nullable=True, unique=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)

    applications = relationship("Application", back_populates="customer")


class Application(Base):
    __tablename__ = "applications"

    application_id = Column(String(14), primary_key=True)  # 'SQ' + 12 digits
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    product = Column(String(32), nullable=False)  # catalogue product code
    amount = Column(Money, nullable=False)
    term = Column(Integer, nullable=False)  # months
    stage = Column(String(20), nullable=False)
    submitted_at = Column(UtcDateTime, nullable=False)
    stage_updated_at = Column(UtcDateTime, nullable=False)
    expected_next_step = Column(Text, nullable=True)
    expected_done_at = Column(UtcDateTime, nullable=True)

    customer = relationship("Customer", back_populates="applications")
    loan = relationship("Loan", back_populates="application", uselist=False)


class Loan(Base):
    __tablename__ = "loans"

    id = Column(Integer, primary_key=True)
    application_id = Column(
        String(14), ForeignKey("applications.application_id"), nullable=False, unique=True
    )
    principal = Column(Money, nullable=False)
    annual_rate = Column(Rate, nullable=False)
    term_months = Column(Integer, nullable=False)
    method = Column(String(32), nullable=False)  # equal_installment|equal_principal|interest_only
    disbursed_at = Column(UtcDateTime, nullable=False)
    outstanding_principal = Column(Money, nullable=False)
    paid_periods = Column(Integer, nullable=False, default=0)
    status = Column(String(16), nullable=False, default="active")

    application = relationship("Application", back_populates="loan")
    installments = relationship(
        "LoanInstallment",
        back_populates="loan",
        order_by="LoanInstallment.period",
        cascade="all, delete-orphan",
    )


class LoanInstallment(Base):
    __tablename__ = "loan_installments"
    __table_args__ = (UniqueConstraint("loan_id", "period", name="uq_installment_period"),)

    id = Column(Integer, primary_key=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    period = Column(Integer, nullable=False)  # 1-based
    due_date = Column(Date, nullable=False)
    payment = Column(Money, nullable=False)
    principal = Column(Money, nullable=False)
    interest = Column(Money, nullable=False)
    remaining = Column(Money, nullable=False)  # principal remaining after this period
    paid = Column(Boolean, nullable=False, default=False)
    paid_at = Column(UtcDateTime, nullable=True)

    loan = relationship("Loan", back_populates="installments")


class Ticket(Base):
    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    number = Column(String(14), nullable=False, unique=True)  # TK + yyyymmdd + 4 digits
    kind = Column(String(32), nullable=False)
    category = Column(String(32), nullable=True)
    detail = Column(Text, nullable=False, default="")  # masked
    contact = Column(String(200), nullable=True)  # masked
    sender_id = Column(String(200), nullable=False, index=True)
    application_id = Column(String(14), nullable=True, index=True)
    status = Column(String(16), nullable=False, default="open")  # open | closed (how: credit/tickets/outcomes.py)
    sla_hours = Column(Integer, nullable=False)
    due_at = Column(UtcDateTime, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class TicketContact(Base):
    """The number to call a ticket back on, in full: the one place it is kept unmasked (the ticket's
    ``contact`` is masked), so the promise "我们会通过138****5678联系您" can be kept.  Removed with the
    ticket (retention) and by a PIPL deletion; read only by ``python -m ops callbacks``."""

    __tablename__ = "ticket_contacts"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, unique=True)
    phone = Column(String(20), nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class Handoff(Base):
    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    queue = Column(String(64), nullable=False)
    summary = Column(Text, nullable=False, default="")  # masked
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class RiskEvent(Base):
    __tablename__ = "risk_events"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False, index=True)
    kind = Column(String(40), nullable=False)  # urgent_need / fraud_report / verification_lock ...
    text = Column(Text, nullable=False, default="")  # masked
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class VerificationCounter(Base):
    """Failure counter and lock for one scope: ('sender', sender_id) or ('application', id).

    Application counters are keyed by the normalised number whether or not it exists,
    so an unknown number behaves exactly like a real one.
    """

    __tablename__ = "verification_counters"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_verification_counter"),)

    id = Column(Integer, primary_key=True)
    scope = Column(String(16), nullable=False)
    key = Column(String(200), nullable=False)
    failures = Column(Integer, nullable=False, default=0)
    window_started_at = Column(UtcDateTime, nullable=True)
    locked_until = Column(UtcDateTime, nullable=True)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow)


class VerificationAttempt(Base):
    """Audit log of identity checks (never stores the digits tried)."""

    __tablename__ = "verification_attempts"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False, index=True)
    application_id = Column(String(14), nullable=True)  # NULL when the input was malformed
    result = Column(String(16), nullable=False)  # ok / failed / locked
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class Verification(Base):
    """A successful verification: sender may see application data until expires_at."""

    __tablename__ = "verifications"
    __table_args__ = (Index("ix_verification_lookup", "sender_id", "application_id"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False)
    application_id = Column(String(14), nullable=False)
    level = Column(String(8), nullable=False)  # basic | strong | ticket (application_id holds the TK number)
    method = Column(String(16), nullable=False)  # id_last4 | otp | wechat_openid
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at = Column(UtcDateTime, nullable=False)


class SmsOutbox(Base):
    __tablename__ = "sms_outbox"

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class OtpCode(Base):
    __tablename__ = "otp_codes"
    __table_args__ = (Index("ix_otp_lookup", "sender_id", "application_id"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False)
    application_id = Column(String(14), nullable=False)
    code_hash = Column(String(200), nullable=False)  # salted PBKDF2, never the code
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at = Column(UtcDateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    used = Column(Boolean, nullable=False, default=False)


# --------------------------------------------------------------------------- engine


def resolve_database_url(url: str | None = None) -> str:
    """``url`` or ``$DATABASE_URL`` or the default; relative SQLite paths → project root."""
    raw = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = make_url(raw)
    if parsed.get_backend_name() != "sqlite":
        return raw
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return raw
    path = Path(database)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(parsed.set(database=str(path)))


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: readers in WAL mode are not blocked, and two
        # writers queue on busy_timeout instead of failing with SQLITE_BUSY mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Engine for ``url`` (default ``$DATABASE_URL`` or ``sqlite:///var/credit.db``)."""
    resolved = resolve_database_url(url)
    backend = make_url(resolved).get_backend_name()
    options: dict[str, Any] = {"future": True}
    if backend == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
        database = make_url(resolved).database or ""
        if database in ("", ":memory:"):
            options["poolclass"] = StaticPool  # one shared in-memory database
        else:
            # Keep connections open (SQLAlchemy 1.4 defaults to NullPool for SQLite files,
            # and closing the last WAL connection checkpoints and fsyncs every time).
            options["poolclass"] = QueuePool
    else:
        options["pool_pre_ping"] = True
    options.update(kwargs)
    engine = create_engine(resolved, **options)
    if backend == "sqlite":
        _install_sqlite_pragmas(engine)
    return engine


def init_db(engine: Engine) -> None:
    """Create all tables that do not exist yet."""
    Base.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = Session(bind=engine, future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def wipe_all(engine: Engine) -> None:
    """Delete every row of every table (children first); the schema stays."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
