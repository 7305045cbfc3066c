"""Loan service: identity verification, progress, OTP, loan details, tickets, risk log.

Framework-free; the action server calls it with the conversation's ``sender_id``.

Verification rules (constants below):

* ``verify_identity`` compares the last four characters of the ID number.  Three failed
  checks by one sender lock that sender for 30 minutes; ten failed checks on one
  application number (any senders, within 24 hours) lock that number for everyone for
  30 minutes.  An unknown but well-formed application number is treated exactly like a
  wrong ``id_last4`` (same result, same counters, a constant-time compare against a
  dummy).  Malformed input is a failure for the sender only.
* A correct check gives a ``basic`` verification for 10 minutes (progress queries).
* An SMS one-time code (``send_otp``/``check_otp``) or a bound WeChat OpenID
  (``strong_by_openid``) gives a ``strong`` verification for 10 minutes (loan details,
  cancellation, settlement certificate).  ``strong`` satisfies ``basic``.

Errors: :class:`InvalidInput`, :class:`NotVerified`, :class:`Locked` (and its subclass
:class:`RateLimited`), :class:`NotFound`, and :class:`ServiceUnavailable` when the
database cannot be reached, so the dialogue can apologise instead of crashing.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator, Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from credit.catalogue import load_catalogue
from credit.db import (
    TICKET_KINDS,
    Application,
    Customer,
    Handoff,
    Loan,
    LoanInstallment,
    OtpCode,
    RiskEvent,
    Ticket,
    Verification,
    VerificationAttempt,
    VerificationCounter,
    as_utc,
    session_scope,
    utcnow,
)
from credit.sms import SmsGateway, get_sms_gateway

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ policy constants

SENDER_MAX_FAILURES = 3
SENDER_FAILURE_WINDOW = timedelta(minutes=30)  # failures older than this are forgotten
SENDER_LOCK = timedelta(minutes=30)
APPLICATION_MAX_FAILURES = 10
APPLICATION_FAILURE_WINDOW = timedelta(hours=24)
APPLICATION_LOCK = timedelta(minutes=30)
VERIFICATION_TTL = timedelta(minutes=10)  # basic and strong alike

OTP_TTL = timedelta(minutes=5)
OTP_MAX_SENDS = 3
OTP_SEND_WINDOW = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5
OTP_HASH_ITERATIONS = 60_000  # salted PBKDF2: a dumped hash cannot be reversed in 5 min

MAX_TEXT_CHARS = 2000  # ticket detail / handoff summary / risk text are truncated here
MAX_SENDER_CHARS = 200

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST in China

CANCELLABLE_STAGES = ("reviewing", "pending_signing")

_APPLICATION_RE = re.compile(r"SQ\d{12}")
_ID_LAST4_RE = re.compile(r"\d{3}[\dX]")
_OTP_RE = re.compile(r"\d{6}")
_TICKET_RE = re.compile(r"TK\d{12}")
_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_STRIP_RE = re.compile(r"[\s\-_]+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DUMMY_LAST4 = "\x00\x00\x00\x00"  # can never equal a normalised input

# ------------------------------------------------------------------------ errors


class ServiceError(Exception):
    """Base class of the service's errors; ``str(exc)`` is a Chinese message."""


class InvalidInput(ServiceError, ValueError):
    """An argument is malformed (bad sender id, unknown ticket kind, bad number…)."""


class NotVerified(ServiceError):
    """The sender lacks a current verification of ``level`` for the application."""

    def __init__(self, level: str = "basic", message: str | None = None) -> None:
        self.level = level
        super().__init__(
            message
            or ("需要先完成短信验证码或微信身份验证" if level == "strong" else "需要先核验身份")
        )


class Locked(ServiceError):
    """Temporarily locked until ``locked_until`` (aware UTC)."""

    def __init__(self, locked_until: datetime, message: str | None = None) -> None:
        self.locked_until = locked_until
        super().__init__(message or "操作过于频繁，已暂时锁定，请稍后再试")


class RateLimited(Locked):
    """Too many requests (e.g. SMS codes); retry after ``locked_until``."""


class NotFound(ServiceError):
    """The requested record does not exist (or is not the sender's)."""


class ServiceUnavailable(ServiceError):
    """The database (or SMS gateway) is unreachable; apologise and retry later."""


# ------------------------------------------------------------------------ results

VerifyStatus = Literal["ok", "failed", "locked"]
OtpCheck = Literal["ok", "wrong", "expired", "locked"]


@dataclass(frozen=True)
class VerifyResult:
    status: VerifyStatus
    attempts_left: int | None  # None when ok, 0 when locked
    locked_until: datetime | None = None


@dataclass(frozen=True)
class ProgressView:
    application_id: str
    stage: str
    stage_label: str  # 审批中
    description: str  # plain-language explanation of the stage
    next_step: str
    expected: str  # plain-Chinese expected time
    expected_done_at: datetime | None
    product: str
    product_name: str
    amount: Decimal
    term: int
    submitted_at: datetime
    stage_updated_at: datetime


@dataclass(frozen=True)
class OtpSent:
    masked_phone: str
    expires_at: datetime
    sends_left: int  # further sends allowed in the current 10-minute window


@dataclass(frozen=True)
class InstallmentView:
    period: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    remaining: Decimal
    paid: bool


@dataclass(frozen=True)
class LoanView:
    application_id: str
    product: str
    product_name: str
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    method: str
    method_label: str
    status: str
    disbursed_at: datetime
    paid_periods: int
    outstanding_principal: Decimal
    next_due_date: date | None
    next_due_amount: Decimal | None
    remaining_schedule: tuple[InstallmentView, ...]


@dataclass(frozen=True)
class TicketView:
    number: str
    kind: str
    category: str | None
    status: str
    sla_hours: int
    due_at: datetime
    created_at: datetime
    application_id: str | None
    detail: str  # masked
    contact: str | None  # masked


@dataclass(frozen=True)
class HandoffView:
    id: int
    channel: str
    queue: str
    created_at: datetime


@dataclass(frozen=True)
class RiskEventView:
    id: int
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class CancelResult:
    application_id: str
    status: Literal["cancelled", "already_cancelled", "not_cancellable"]
    stage: str
    message: str
    suggestion: str | None = None


@dataclass(frozen=True)
class SettlementResult:
    application_id: str
    status: Literal["created", "already_requested", "outstanding", "not_disbursed"]
    message: str
    ticket: TicketView | None = None
    outstanding_principal: Decimal | None = None
    remaining_periods: int | None = None


# --------------------------------------------------------------- normalisation


def _nfkc(value: Any, max_len: int) -> str | None:
    """NFKC (full-width → half-width), strip, upper; None if not a short string."""
    if not isinstance(value, str) or len(value) > max_len:
        return None
    return unicodedata.normalize("NFKC", value).strip().upper()


def normalise_application_id(value: Any) -> str | None:
    """'ｓｑ 2026-1120-0001' → 'SQ202611200001'; None when malformed."""
    text = _nfkc(value, 64)
    if text is None:
        return None
    text = _STRIP_RE.sub("", text)
    return text if _APPLICATION_RE.fullmatch(text) else None


def normalise_id_last4(value: Any) -> str | None:
    """'１２３ｘ' → '123X'; None when malformed."""
    text = _nfkc(value, 32)
    if text is None:
        return None
    text = _STRIP_RE.sub("", text)
    return text if _ID_LAST4_RE.fullmatch(text) else None


def normalise_otp(value: Any) -> str | None:
    text = _nfkc(value, 32)
    if text is None:
        return None
    text = _STRIP_RE.sub("", text)
    return text if _OTP_RE.fullmatch(text) else None


def normalise_ticket_number(value: Any) -> str | None:
    text = _nfkc(value, 64)
    if text is None:
        return None
    text = _STRIP_RE.sub("", text)
    return text if _TICKET_RE.fullmatch(text) else None


def _sender(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("会话标识无效")
    text = value.strip()
    if not text or len(text) > MAX_SENDER_CHARS or not text.isprintable():
        raise InvalidInput("会话标识无效")
    return text


def _code(value: Any, what: str) -> str:
    """Short machine code (ticket category, risk kind, channel, queue)."""
    text = value.strip().lower() if isinstance(value, str) else None
    if not text or not _CODE_RE.fullmatch(text):
        raise InvalidInput(f"{what}无效")
    return text


def _text(value: Any, what: str) -> str:
    """Free text (None → ''), masked then truncated to MAX_TEXT_CHARS."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what}无效")
    # Control characters are dropped (PostgreSQL rejects NUL) before masking.
    cleaned = _CONTROL_RE.sub("", value[: MAX_TEXT_CHARS * 4])
    return mask_text(cleaned)[:MAX_TEXT_CHARS]


# ---------------------------------------------------------------- masking glue


def mask_text(text: str) -> str:
    """Mask phone numbers, ID numbers, card numbers… with ``credit.masking.mask_pii``."""
    try:
        from credit.masking import mask_pii
    except ImportError:  # pragma: no cover - masking module ships with the project
        log.warning("credit.masking unavailable; using the conservative fallback mask")
        return re.sub(r"\d{7,}", lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)
    return mask_pii(text)


def mask_phone(phone: str) -> str:
    """'13800005678' → '138****5678'."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


# ---------------------------------------------------------------- catalogue glue
#
# The database keeps the stage codes of the application workflow (``STAGES`` in
# credit/db.py); the catalogue names two of them differently.  Ticket kinds map onto
# the catalogue's SLA kinds the same way.  These two dicts are the only place that
# knows about the difference.

CATALOGUE_STAGE = {"pending_signing": "pending_signature", "declined": "rejected"}
CATALOGUE_SLA_KIND = {"cancel_request": "cancellation", "account_request": "account_service"}

# Used only when the catalogue has no SLA for a ticket kind (calendar hours).
DEFAULT_SLA_HOURS = {
    "complaint": 24,
    "negotiation": 48,
    "settlement_certificate": 72,
    "cancel_request": 24,
    "account_request": 24,
    "callback": 2,
}


@dataclass(frozen=True)
class StageInfo:
    label: str  # 审批中
    description: str  # plain-language explanation
    next_step: str
    expected: str


def stage_info(stage: str) -> StageInfo:
    """Label, explanation, next step and expected time of a stage (from the catalogue)."""
    try:
        entry = load_catalogue().stage(CATALOGUE_STAGE.get(stage, stage))
    except KeyError:
        return StageInfo(stage, "", "", "")
    return StageInfo(entry.name, entry.plain, entry.next_step, entry.expected_time)


def sla_hours_for(kind: str) -> int:
    """First-reply SLA in hours from the catalogue's ``slas``, else DEFAULT_SLA_HOURS."""
    try:
        return int(load_catalogue().sla_hours(CATALOGUE_SLA_KIND.get(kind, kind)))
    except KeyError:
        return DEFAULT_SLA_HOURS[kind]


def product_name(code: str) -> str:
    try:
        return load_catalogue().product(code).name
    except KeyError:  # unknown code: show the code rather than fail
        return code


def method_label(method: str) -> str:
    try:
        return load_catalogue().method_name(method)
    except KeyError:
        return method


# ----------------------------------------------------------------- loan booking


def add_months(start: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_date(disbursed_on: date, period: int) -> date:
    """Due date of instalment ``period`` (catalogue ``repayment.due_day_rule``): the
    disbursement day of each following month, the 28th when disbursed on the 29th–31st."""
    return add_months(disbursed_on.replace(day=min(disbursed_on.day, 28)), period)


def china_date(moment: datetime) -> date:
    return as_utc(moment).astimezone(CHINA_TZ).date()


def book_loan(
    session: Session,
    application: Application,
    *,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    disbursed_at: datetime,
    paid_periods: int = 0,
) -> Loan:
    """Create a loan and its schedule (``credit.calculators.build_schedule``).

    Instalment ``i`` falls due ``i`` months after the disbursement date (China time,
    see :func:`due_date`);
    the first ``paid_periods`` are marked paid on their due dates.
    """
    from credit.calculators import build_schedule

    schedule = build_schedule(Decimal(principal), Decimal(annual_rate), term_months, method)
    if not 0 <= paid_periods <= term_months:
        raise InvalidInput("已还期数超出范围")
    loan = Loan(
        application_id=application.application_id,
        principal=Decimal(principal),
        annual_rate=Decimal(annual_rate),
        term_months=term_months,
        method=method,
        disbursed_at=disbursed_at,
        paid_periods=paid_periods,
        outstanding_principal=Decimal(principal),
        status="active",
    )
    start = china_date(disbursed_at)
    for index, item in enumerate(schedule.installments, start=1):
        due = due_date(start, index)
        paid = index <= paid_periods
        loan.installments.append(
            LoanInstallment(
                period=index,
                due_date=due,
                payment=item.payment,
                principal=item.principal,
                interest=item.interest,
                remaining=item.remaining,
                paid=paid,
                paid_at=datetime(due.year, due.month, due.day, 2, tzinfo=timezone.utc) if paid else None,
            )
        )
        if paid:
            loan.outstanding_principal = Decimal(item.remaining)
    if paid_periods == term_months:
        loan.outstanding_principal = Decimal("0")
        loan.status = "settled"
    session.add(loan)
    return loan


# ----------------------------------------------------------------------- service


def _hash_otp(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    pepper = os.environ.get("OTP_PEPPER", "").encode()
    digest = hashlib.pbkdf2_hmac("sha256", code.encode() + pepper, salt, OTP_HASH_ITERATIONS)
    return f"pbkdf2_sha256${OTP_HASH_ITERATIONS}${salt.hex()}${digest.hex()}"


def _otp_matches(code: str, stored: str) -> bool:
    try:
        _, iterations, salt_hex, digest_hex = stored.split("$")
        pepper = os.environ.get("OTP_PEPPER", "").encode()
        digest = hashlib.pbkdf2_hmac(
            "sha256", code.encode() + pepper, bytes.fromhex(salt_hex), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


class LoanService:
    """All database-backed customer-service operations (one transaction per call)."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utcnow,
        sms: SmsGateway | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.sms: SmsGateway = sms if sms is not None else get_sms_gateway(engine)

    # ------------------------------------------------------------ plumbing

    def now(self) -> datetime:
        return as_utc(self.clock())

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with session_scope(self.engine) as session:
                yield session
        except (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError) as exc:
            log.error("database unavailable: %s", exc)
            raise ServiceUnavailable("系统繁忙，暂时无法查询，请稍后再试") from exc

    def _counter(
        self, session: Session, scope: str, key: str, create: bool
    ) -> VerificationCounter | None:
        query = (
            select(VerificationCounter)
            .where(VerificationCounter.scope == scope, VerificationCounter.key == key)
            .with_for_update()
        )
        row = session.execute(query).scalar_one_or_none()
        if row is not None or not create:
            return row
        try:
            with session.begin_nested():
                row = VerificationCounter(scope=scope, key=key, failures=0, updated_at=self.now())
                session.add(row)
        except IntegrityError:  # created concurrently by another transaction
            row = session.execute(query).scalar_one()
        return row

    def _has_verification(
        self, session: Session, sender: str, application_id: str, level: str
    ) -> bool:
        levels = ("strong",) if level == "strong" else ("basic", "strong")
        query = select(func.count(Verification.id)).where(
            Verification.sender_id == sender,
            Verification.application_id == application_id,
            Verification.level.in_(levels),
            Verification.expires_at > self.now(),
        )
        return bool(session.execute(query).scalar_one())

    def _grant(self, session: Session, sender: str, application_id: str, level: str, method: str) -> None:
        now = self.now()
        session.add(
            Verification(
                sender_id=sender,
                application_id=application_id,
                level=level,
                method=method,
                created_at=now,
                expires_at=now + VERIFICATION_TTL,
            )
        )

    def _require(self, session: Session, sender: str, application_id: Any, level: str) -> Application:
        app_id = normalise_application_id(application_id)
        if app_id is None:
            raise InvalidInput("申请编号格式不正确，应为SQ加12位数字")
        if not self._has_verification(session, sender, app_id, level):
            raise NotVerified(level)
        application = session.get(Application, app_id)
        if application is None:  # pragma: no cover - verifications exist only for real ones
            raise NotVerified(level)
        return application

    def _risk(self, session: Session, sender: str, kind: str, text: str) -> RiskEvent:
        event = RiskEvent(sender_id=sender, kind=kind, text=_text(text, "内容"), created_at=self.now())
        session.add(event)
        return event

    # ------------------------------------------------------- identity check

    def verify_identity(self, sender_id: Any, application_id: Any, id_last4: Any) -> VerifyResult:
        """Check the ID number's last four characters for ``application_id``."""
        sender = _sender(sender_id)
        app_id = normalise_application_id(application_id)
        candidate = normalise_id_last4(id_last4)
        now = self.now()
        with self._session() as session:
            sender_counter = self._counter(session, "sender", sender, create=False)
            app_counter = (
                self._counter(session, "application", app_id, create=False) if app_id else None
            )
            for counter in (sender_counter, app_counter):
                if counter is not None and counter.locked_until and counter.locked_until > now:
                    session.add(
                        VerificationAttempt(
                            sender_id=sender, application_id=app_id, result="locked", created_at=now
                        )
                    )
                    return VerifyResult("locked", 0, counter.locked_until)

            target = _DUMMY_LAST4
            exists = False
            if app_id is not None:
                row = session.execute(
                    select(Customer.id_last4)
                    .join(Application, Application.customer_id == Customer.id)
                    .where(Application.application_id == app_id)
                ).first()
                if row is not None:
                    target, exists = row[0].upper(), True
            # Always compare (against a dummy when unknown) so timing does not tell.
            matches = hmac.compare_digest((candidate or "????").encode(), target.encode())
            if matches and exists and app_id is not None and candidate is not None:
                if sender_counter is not None:
                    sender_counter.failures = 0
                    sender_counter.window_started_at = None
                    sender_counter.updated_at = now
                self._grant(session, sender, app_id, "basic", "id_last4")
                session.add(
                    VerificationAttempt(sender_id=sender, application_id=app_id, result="ok", created_at=now)
                )
                return VerifyResult("ok", None, None)

            locked_until: datetime | None = None
            sender_counter = self._counter(session, "sender", sender, create=True)
            assert sender_counter is not None
            left = self._fail(
                sender_counter, now, SENDER_MAX_FAILURES, SENDER_FAILURE_WINDOW, SENDER_LOCK
            )
            if left == 0:
                locked_until = sender_counter.locked_until
                self._risk(
                    session,
                    sender,
                    "verification_lock",
                    f"同一会话连续{SENDER_MAX_FAILURES}次身份核验失败，会话锁定30分钟"
                    + (f"（最后尝试的申请编号 {app_id}）" if app_id else ""),
                )
            if app_id is not None:
                app_counter = self._counter(session, "application", app_id, create=True)
                assert app_counter is not None
                if (
                    self._fail(
                        app_counter,
                        now,
                        APPLICATION_MAX_FAILURES,
                        APPLICATION_FAILURE_WINDOW,
                        APPLICATION_LOCK,
                    )
                    == 0
                ):
                    assert app_counter.locked_until is not None
                    locked_until = max(locked_until or app_counter.locked_until, app_counter.locked_until)
                    self._risk(
                        session,
                        sender,
                        "verification_lock",
                        f"申请编号 {app_id} 累计{APPLICATION_MAX_FAILURES}次身份核验失败，该编号锁定30分钟",
                    )
            result: VerifyStatus = "locked" if locked_until else "failed"
            session.add(
                VerificationAttempt(sender_id=sender, application_id=app_id, result=result, created_at=now)
            )
            if locked_until:
                return VerifyResult("locked", 0, locked_until)
            return VerifyResult("failed", left, None)

    @staticmethod
    def _fail(
        counter: VerificationCounter,
        now: datetime,
        limit: int,
        window: timedelta,
        lock: timedelta,
    ) -> int:
        """Count one failure; lock at ``limit``.  Returns the attempts left (0 = locked)."""
        if counter.window_started_at is None or now - counter.window_started_at > window:
            counter.failures = 0
            counter.window_started_at = now
        counter.failures += 1
        counter.updated_at = now
        if counter.failures >= limit:
            counter.failures = 0
            counter.window_started_at = None
            counter.locked_until = now + lock
            return 0
        return limit - counter.failures

    def is_verified(self, sender_id: Any, application_id: Any, level: str = "basic") -> bool:
        """True while the sender holds an unexpired verification of ``level`` (strong ⊇ basic).

        Malformed ids simply give False.
        """
        if level not in ("basic", "strong"):
            raise InvalidInput(f"未知的核验级别 {level!r}")
        try:
            sender = _sender(sender_id)
        except InvalidInput:
            return False
        app_id = normalise_application_id(application_id)
        if app_id is None:
            return False
        with self._session() as session:
            return self._has_verification(session, sender, app_id, level)

    # ----------------------------------------------------------- progress

    def get_progress(self, sender_id: Any, application_id: Any) -> ProgressView:
        """Stage and next step of the application (basic verification required)."""
        sender = _sender(sender_id)
        with self._session() as session:
            app = self._require(session, sender, application_id, "basic")
            info = stage_info(app.stage)
            next_step = app.expected_next_step or info.next_step
            expected = info.expected
            if app.expected_done_at is not None and app.stage in CANCELLABLE_STAGES:
                local = app.expected_done_at.astimezone(CHINA_TZ)
                expected = f"预计{local.month}月{local.day}日{local:%H:%M}前"
            return ProgressView(
                application_id=app.application_id,
                stage=app.stage,
                stage_label=info.label,
                description=info.description,
                next_step=next_step,
                expected=expected,
                expected_done_at=app.expected_done_at,
                product=app.product,
                product_name=product_name(app.product),
                amount=app.amount,
                term=app.term,
                submitted_at=app.submitted_at,
                stage_updated_at=app.stage_updated_at,
            )

    # --------------------------------------------------------------- OTP

    def send_otp(self, sender_id: Any, application_id: Any) -> OtpSent:
        """Text a 6-digit code (5 min) to the customer's phone; basic verification required."""
        sender = _sender(sender_id)
        now = self.now()
        with self._session() as session:
            app = self._require(session, sender, application_id, "basic")
            recent = session.execute(
                select(OtpCode.created_at)
                .where(OtpCode.sender_id == sender, OtpCode.created_at > now - OTP_SEND_WINDOW)
                .order_by(OtpCode.created_at)
            ).scalars().all()
            if len(recent) >= OTP_MAX_SENDS:
                raise RateLimited(
                    recent[0] + OTP_SEND_WINDOW,
                    "验证码发送太频繁，10分钟内最多发送3次，请稍后再试",
                )
            for old in session.execute(
                select(OtpCode).where(
                    OtpCode.sender_id == sender,
                    OtpCode.application_id == app.application_id,
                    OtpCode.used.is_(False),
                )
            ).scalars():
                old.used = True
            code = f"{secrets.randbelow(1_000_000):06d}"
            otp = OtpCode(
                sender_id=sender,
                application_id=app.application_id,
                code_hash=_hash_otp(code),
                created_at=now,
                expires_at=now + OTP_TTL,
                attempts=0,
                used=False,
            )
            session.add(otp)
            session.flush()
            otp_id = otp.id
            phone = app.customer.phone
            sends_left = OTP_MAX_SENDS - len(recent) - 1
        text = (
            f"您的验证码为{code}，5分钟内有效，仅用于本人身份验证。"
            "任何人（包括自称客服或工作人员）向您索要验证码都是诈骗，请勿告诉任何人。"
        )
        try:
            self.sms.send(phone, text)
        except Exception as exc:
            log.error("SMS gateway failed: %s", exc)
            with self._session() as session:
                row = session.get(OtpCode, otp_id)
                if row is not None:
                    row.used = True
            raise ServiceUnavailable("短信发送失败，请稍后再试") from exc
        return OtpSent(masked_phone=mask_phone(phone), expires_at=now + OTP_TTL, sends_left=sends_left)

    def check_otp(self, sender_id: Any, application_id: Any, code: Any) -> OtpCheck:
        """Check the latest code; 'ok' grants a strong verification for 10 minutes."""
        sender = _sender(sender_id)
        app_id = normalise_application_id(application_id)
        if app_id is None:
            raise InvalidInput("申请编号格式不正确，应为SQ加12位数字")
        candidate = normalise_otp(code)
        now = self.now()
        with self._session() as session:
            otp = session.execute(
                select(OtpCode)
                .where(OtpCode.sender_id == sender, OtpCode.application_id == app_id)
                .order_by(OtpCode.created_at.desc(), OtpCode.id.desc())
                .limit(1)
                .with_for_update()
            ).scalar_one_or_none()
            if otp is None:
                return "expired"
            if otp.attempts >= OTP_MAX_ATTEMPTS:
                return "locked"
            if otp.used or otp.expires_at <= now:
                return "expired"
            if candidate is not None and _otp_matches(candidate, otp.code_hash):
                otp.used = True
                self._grant(session, sender, app_id, "strong", "otp")
                return "ok"
            otp.attempts += 1
            return "locked" if otp.attempts >= OTP_MAX_ATTEMPTS else "wrong"

    # ------------------------------------------------------------ WeChat

    def bind_wechat_openid(self, customer_id: int, openid: str) -> None:
        """Bind a WeChat OpenID to a customer (admin/seed use)."""
        if not isinstance(openid, str) or not 0 < len(openid.strip()) <= 128:
            raise InvalidInput("OpenID 无效")
        with self._session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise NotFound("客户不存在")
            customer.wechat_openid = openid.strip()

    def strong_by_openid(self, sender_id: Any, openid: Any, application_id: Any) -> bool:
        """Strong verification when the application's customer has ``openid`` bound."""
        sender = _sender(sender_id)
        app_id = normalise_application_id(application_id)
        if app_id is None or not isinstance(openid, str) or not 0 < len(openid) <= 128:
            return False
        with self._session() as session:
            row = session.execute(
                select(Customer.wechat_openid)
                .join(Application, Application.customer_id == Customer.id)
                .where(Application.application_id == app_id)
            ).first()
            bound = row[0] if row is not None and row[0] else None
            if bound is None or not hmac.compare_digest(bound.encode(), openid.strip().encode()):
                return False
            self._grant(session, sender, app_id, "strong", "wechat_openid")
            return True

    # ------------------------------------------------------------- loans

    def get_loan_details(self, sender_id: Any, application_id: Any) -> LoanView:
        """Loan terms, balance and remaining schedule (strong verification required)."""
        sender = _sender(sender_id)
        with self._session() as session:
            app = self._require(session, sender, application_id, "strong")
            loan = app.loan
            if loan is None:
                label = stage_info(app.stage).label
                raise NotFound(f"该申请当前状态为“{label}”，尚未放款，暂无贷款信息")
            remaining = tuple(
                InstallmentView(
                    period=i.period,
                    due_date=i.due_date,
                    payment=i.payment,
                    principal=i.principal,
                    interest=i.interest,
                    remaining=i.remaining,
                    paid=i.paid,
                )
                for i in loan.installments
                if not i.paid
            )
            return LoanView(
                application_id=app.application_id,
                product=app.product,
                product_name=product_name(app.product),
                principal=loan.principal,
                annual_rate=loan.annual_rate,
                term_months=loan.term_months,
                method=loan.method,
                method_label=method_label(loan.method),
                status=loan.status,
                disbursed_at=loan.disbursed_at,
                paid_periods=loan.paid_periods,
                outstanding_principal=loan.outstanding_principal,
                next_due_date=remaining[0].due_date if remaining else None,
                next_due_amount=remaining[0].payment if remaining else None,
                remaining_schedule=remaining,
            )

    # ----------------------------------------------------------- tickets

    def _new_ticket(
        self,
        session: Session,
        sender: str,
        kind: str,
        detail: str,
        contact: str | None,
        category: str | None,
        application_id: str | None,
    ) -> Ticket:
        now = self.now()
        hours = sla_hours_for(kind)
        prefix = f"TK{now.astimezone(CHINA_TZ):%Y%m%d}"
        for _ in range(50):
            number = f"{prefix}{secrets.randbelow(10_000):04d}"
            taken = session.execute(select(Ticket.id).where(Ticket.number == number)).first()
            if taken is not None:
                continue
            ticket = Ticket(
                number=number,
                kind=kind,
                category=category,
                detail=detail,
                contact=contact,
                sender_id=sender,
                application_id=application_id,
                status="open",
                sla_hours=hours,
                due_at=now + timedelta(hours=hours),
                created_at=now,
            )
            try:
                with session.begin_nested():
                    session.add(ticket)
            except IntegrityError:  # same number inserted concurrently
                continue
            return ticket
        raise ServiceUnavailable("暂时无法生成工单号，请稍后再试")

    @staticmethod
    def _ticket_view(t: Ticket) -> TicketView:
        return TicketView(
            number=t.number,
            kind=t.kind,
            category=t.category,
            status=t.status,
            sla_hours=t.sla_hours,
            due_at=t.due_at,
            created_at=t.created_at,
            application_id=t.application_id,
            detail=t.detail,
            contact=t.contact,
        )

    def create_ticket(
        self,
        sender_id: Any,
        kind: Any,
        detail: Any,
        contact: Any = None,
        category: Any = None,
        application_id: Any = None,
    ) -> TicketView:
        """Open a ticket; detail and contact are stored masked, SLA from the catalogue."""
        sender = _sender(sender_id)
        if kind not in TICKET_KINDS:
            raise InvalidInput(f"未知的工单类型：{str(kind)[:40]}")
        app_id = None
        if application_id is not None:
            app_id = normalise_application_id(application_id)
            if app_id is None:
                raise InvalidInput("申请编号格式不正确，应为SQ加12位数字")
        cat = _code(category, "问题分类") if category is not None else None
        masked_detail = _text(detail, "问题描述")
        masked_contact = _text(contact, "联系方式")[:200] or None
        with self._session() as session:
            ticket = self._new_ticket(session, sender, kind, masked_detail, masked_contact, cat, app_id)
            return self._ticket_view(ticket)

    def list_tickets(self, sender_id: Any) -> list[TicketView]:
        """The sender's own tickets, newest first."""
        sender = _sender(sender_id)
        with self._session() as session:
            rows = session.execute(
                select(Ticket)
                .where(Ticket.sender_id == sender)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            ).scalars()
            return [self._ticket_view(t) for t in rows]

    def ticket_status(self, sender_id: Any, number: Any) -> TicketView | None:
        """One of the sender's own tickets by number; None if absent or someone else's."""
        sender = _sender(sender_id)
        normalised = normalise_ticket_number(number)
        if normalised is None:
            raise InvalidInput("工单号格式不正确，应为TK加12位数字")
        with self._session() as session:
            ticket = session.execute(
                select(Ticket).where(Ticket.number == normalised, Ticket.sender_id == sender)
            ).scalar_one_or_none()
            return self._ticket_view(ticket) if ticket is not None else None

    # ------------------------------------------------------ handoff & risk

    def record_handoff(self, sender_id: Any, channel: Any, queue: Any, summary: Any) -> HandoffView:
        """Log a transfer to a human queue (summary stored masked)."""
        sender = _sender(sender_id)
        chan = _code(channel, "渠道")
        q = _code(queue, "队列")
        text = _text(summary, "摘要")
        with self._session() as session:
            row = Handoff(sender_id=sender, channel=chan, queue=q, summary=text, created_at=self.now())
            session.add(row)
            session.flush()
            return HandoffView(id=row.id, channel=chan, queue=q, created_at=row.created_at)

    def record_risk_event(self, sender_id: Any, kind: Any, text: Any) -> RiskEventView:
        """Log a risk signal (urgent_need, fraud_report, …); text stored masked."""
        sender = _sender(sender_id)
        code = _code(kind, "风险类型")
        with self._session() as session:
            event = self._risk(session, sender, code, text if isinstance(text, str) else "")
            session.flush()
            return RiskEventView(id=event.id, kind=code, created_at=event.created_at)

    # ------------------------------------------- cancellation & certificates

    def request_cancel(self, sender_id: Any, application_id: Any) -> CancelResult:
        """Cancel an application still reviewing or awaiting signature (strong required)."""
        sender = _sender(sender_id)
        with self._session() as session:
            app = self._require(session, sender, application_id, "strong")
            if app.stage in CANCELLABLE_STAGES:
                now = self.now()
                app.stage = "cancelled"
                app.stage_updated_at = now
                app.expected_next_step = None
                app.expected_done_at = None
                return CancelResult(
                    app.application_id, "cancelled", app.stage, "申请已取消，不会产生任何费用。"
                )
            if app.stage == "cancelled":
                return CancelResult(app.application_id, "already_cancelled", app.stage, "该申请此前已取消。")
            if app.stage == "disbursed":
                return CancelResult(
                    app.application_id,
                    "not_cancellable",
                    app.stage,
                    "该笔借款已放款，无法取消申请。",
                    "如不再需要这笔资金，可以办理提前还款，结清后不再产生后续利息。",
                )
            return CancelResult(
                app.application_id,
                "not_cancellable",
                app.stage,
                f"该申请当前状态为“{stage_info(app.stage).label}”，无需取消。",
            )

    def request_settlement_certificate(self, sender_id: Any, application_id: Any) -> SettlementResult:
        """Open a settlement-certificate ticket when the loan is fully repaid (strong required)."""
        sender = _sender(sender_id)
        with self._session() as session:
            app = self._require(session, sender, application_id, "strong")
            loan = app.loan
            if loan is None:
                return SettlementResult(
                    app.application_id,
                    "not_disbursed",
                    f"该申请当前状态为“{stage_info(app.stage).label}”，没有贷款记录，无法开具结清证明。",
                )
            if loan.status != "settled" or loan.outstanding_principal > 0:
                periods = loan.term_months - loan.paid_periods
                return SettlementResult(
                    app.application_id,
                    "outstanding",
                    f"该笔贷款尚有未还本金¥{loan.outstanding_principal:,.2f}，剩余{periods}期，"
                    "全部结清后才能开具结清证明；也可以先申请提前还款。",
                    outstanding_principal=loan.outstanding_principal,
                    remaining_periods=periods,
                )
            existing = session.execute(
                select(Ticket).where(
                    Ticket.application_id == app.application_id,
                    Ticket.kind == "settlement_certificate",
                    Ticket.status == "open",
                )
            ).scalars().first()
            if existing is not None:
                view = self._ticket_view(existing)
                return SettlementResult(
                    app.application_id,
                    "already_requested",
                    f"结清证明已在办理中，工单号{view.number}。",
                    ticket=view,
                    outstanding_principal=Decimal("0.00"),
                    remaining_periods=0,
                )
            ticket = self._new_ticket(
                session, sender, "settlement_certificate", "申请开具结清证明", None, None, app.application_id
            )
            view = self._ticket_view(ticket)
            return SettlementResult(
                app.application_id,
                "created",
                f"已为您提交结清证明申请，工单号{view.number}，预计{view.sla_hours}小时内处理。",
                ticket=view,
                outstanding_principal=Decimal("0.00"),
                remaining_periods=0,
            )
