"""Identity verification: ID-number checks with lockouts, SMS one-time codes, WeChat OpenID.

* :meth:`Verifier.verify_identity` compares the last four characters of the ID
  number.  Failures count per sender and per application number and lock either one
  (limits in :mod:`credit.policy`).  An unknown but well-formed application number is
  treated exactly like a wrong ``id_last4`` (same result, same counters, a constant-time
  compare against a dummy).  Malformed input is a failure for the sender only.
* A correct check gives a ``basic`` verification (progress queries).
* An SMS one-time code (``send_otp``/``check_otp``) or a bound WeChat OpenID
  (``strong_by_openid``) gives a ``strong`` one (loan details, cancellation, settlement
  certificate).  ``strong`` satisfies ``basic``.  Codes are stored as salted PBKDF2
  hashes (plus the ``OTP_PEPPER`` environment variable), never in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credit.db.identity import OtpCode, Verification, VerificationAttempt, VerificationCounter
from credit.db.loans import Application, Customer
from credit.db.tickets import Ticket
from credit.errors import InvalidInput, NotFound, NotVerified, RateLimited, ServiceUnavailable
from credit.policy import (
    APPLICATION_FAILURE_WINDOW,
    APPLICATION_LOCK,
    APPLICATION_MAX_FAILURES,
    OTP_HASH_ITERATIONS,
    OTP_MAX_ATTEMPTS,
    OTP_MAX_SENDS,
    OTP_SEND_WINDOW,
    OTP_TTL,
    SENDER_FAILURE_WINDOW,
    SENDER_LOCK,
    SENDER_MAX_FAILURES,
    VERIFICATION_TTL,
)
from credit.sms.gateway import SmsGateway
from credit.store import Store
from credit.text import inputs
from credit.text.masking import mask_phone
from credit.tickets.records import add_risk_event, ticket_view
from credit.views import OtpCheck, OtpSent, TicketLookup, TicketView, VerifyResult, VerifyStatus

log = logging.getLogger(__name__)

_MASKED_PHONE = re.compile(r"1\d{2}\*{4}(\d{4})")
_DUMMY_LAST4 = "\x00\x00\x00\x00"  # can never equal a normalised input
OTP_TEXT = (
    "您的验证码为{code}，5分钟内有效，仅用于本人身份验证。"
    "任何人（包括自称客服或工作人员）向您索要验证码都是诈骗，请勿告诉任何人。"
)


def hash_otp(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    pepper = os.environ.get("OTP_PEPPER", "").encode()
    digest = hashlib.pbkdf2_hmac("sha256", code.encode() + pepper, salt, OTP_HASH_ITERATIONS)
    return f"pbkdf2_sha256${OTP_HASH_ITERATIONS}${salt.hex()}${digest.hex()}"


def otp_matches(code: str, stored: str) -> bool:
    try:
        _, iterations, salt_hex, digest_hex = stored.split("$")
        pepper = os.environ.get("OTP_PEPPER", "").encode()
        digest = hashlib.pbkdf2_hmac(
            "sha256", code.encode() + pepper, bytes.fromhex(salt_hex), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def count_failure(counter: VerificationCounter, now: datetime, limit: int, window: timedelta, lock: timedelta) -> int:
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


class Verifier:
    """Who may see what: grants and checks verifications of a sender for an application."""

    def __init__(self, store: Store, sms: SmsGateway) -> None:
        self.store = store
        self.sms = sms

    # ------------------------------------------------------------ grants

    def has_verification(self, session: Session, sender: str, application_id: str, level: str) -> bool:
        levels = ("strong",) if level == "strong" else ("basic", "strong")
        query = select(func.count(Verification.id)).where(
            Verification.sender_id == sender,
            Verification.application_id == application_id,
            Verification.level.in_(levels),
            Verification.expires_at > self.store.now(),
        )
        return bool(session.execute(query).scalar_one())

    def grant(self, session: Session, sender: str, application_id: str, level: str, method: str) -> None:
        now = self.store.now()
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

    def require(self, session: Session, sender: str, application_id: Any, level: str) -> Application:
        """The application, if the sender holds a current verification of ``level`` for it."""
        app_id = inputs.APPLICATION_ID.require(application_id)
        if not self.has_verification(session, sender, app_id, level):
            raise NotVerified(level)
        application = session.get(Application, app_id)
        if application is None:  # pragma: no cover - verifications exist only for real ones
            raise NotVerified(level)
        return application

    def is_verified(self, sender_id: Any, application_id: Any, level: str = "basic") -> bool:
        """True while the sender holds an unexpired verification of ``level`` (strong ⊇ basic).

        Malformed ids simply give False.
        """
        if level not in ("basic", "strong"):
            raise InvalidInput(f"未知的核验级别 {level!r}")
        try:
            sender = inputs.sender(sender_id)
        except InvalidInput:
            return False
        app_id = inputs.APPLICATION_ID.normalise(application_id)
        if app_id is None:
            return False
        with self.store.session() as session:
            return self.has_verification(session, sender, app_id, level)

    # ------------------------------------------------------- identity check

    def _counter(self, session: Session, scope: str, key: str, create: bool) -> VerificationCounter | None:
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
                row = VerificationCounter(scope=scope, key=key, failures=0, updated_at=self.store.now())
                session.add(row)
        except IntegrityError:  # created concurrently by another transaction
            row = session.execute(query).scalar_one()
        return row

    def verify_identity(self, sender_id: Any, application_id: Any, id_last4: Any) -> VerifyResult:
        """Check the ID number's last four characters for ``application_id``."""
        sender = inputs.sender(sender_id)
        app_id = inputs.APPLICATION_ID.normalise(application_id)
        candidate = inputs.ID_LAST4.normalise(id_last4)
        now = self.store.now()
        with self.store.session() as session:
            sender_counter = self._counter(session, "sender", sender, create=False)
            app_counter = self._counter(session, "application", app_id, create=False) if app_id else None
            for counter in (sender_counter, app_counter):
                if counter is not None and counter.locked_until and counter.locked_until > now:
                    session.add(
                        VerificationAttempt(sender_id=sender, application_id=app_id, result="locked", created_at=now)
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
                self.grant(session, sender, app_id, "basic", "id_last4")
                session.add(VerificationAttempt(sender_id=sender, application_id=app_id, result="ok", created_at=now))
                return VerifyResult("ok", None, None)
            return self._failed(session, sender, app_id, now)

    def verify_by_tails(self, sender_id: Any, phone_last4: Any, id_last4: Any) -> tuple[VerifyResult, str | None]:
        """A forgotten application number: the registered mobile's and the ID's last 4 find the customer's latest
        application (basic level); a miss counts against the sender, with the same lockout as the ID check."""
        sender, id4 = inputs.sender(sender_id), inputs.ID_LAST4.normalise(id_last4)
        tail, now = str(phone_last4 or "")[-4:], self.store.now()
        with self.store.session() as session:
            counter = self._counter(session, "sender", sender, create=False)
            if counter is not None and counter.locked_until and counter.locked_until > now:
                return VerifyResult("locked", 0, counter.locked_until), None
            rows = session.execute(select(Application.application_id, Customer.phone).join(
                Customer, Application.customer_id == Customer.id).where(Customer.id_last4 == (id4 or "????"))
                .order_by(Application.submitted_at.desc())).all()
            app_id = next((a for a, phone in rows if hmac.compare_digest(phone[-4:].encode(), tail.encode())), None)
            if app_id is None or len(tail) != 4:
                return self._failed(session, sender, None, now), None
            self.grant(session, sender, app_id, "basic", "phone_id_last4")
            session.add(VerificationAttempt(sender_id=sender, application_id=app_id, result="ok", created_at=now))
            return VerifyResult("ok", None, None), app_id

    def verify_ticket(self, sender_id: Any, number: Any, check: Any) -> TicketLookup:
        """A ticket opened in another conversation, shown after four check digits: the last four of the
        phone number left on the ticket, or of the ID number of the application it concerns.

        An unknown number and wrong digits give the same result and count alike: against the sender,
        the ticket number and the linked application, so rotating conversations does not allow guessing
        (a ticket holds complaint content); a constant-time compare runs either way."""
        sender = inputs.sender(sender_id)
        candidate = (inputs.ID_LAST4.normalise(check) or "????").encode()
        now = self.store.now()
        normalised = inputs.TICKET_NUMBER.normalise(number)
        with self.store.session() as session:
            ticket = None
            if normalised is not None:
                ticket = session.execute(select(Ticket).where(Ticket.number == normalised)).scalar_one_or_none()
            app_id = ticket.application_id if ticket is not None else None
            counters = [self._counter(session, "sender", sender, create=False),
                        self._counter(session, "ticket", normalised, create=False) if normalised else None,
                        self._counter(session, "application", app_id, create=False) if app_id else None]
            for counter in counters:  # another conversation guessing this ticket is stopped too
                if counter is not None and counter.locked_until and counter.locked_until > now:
                    return TicketLookup(VerifyResult("locked", 0, counter.locked_until), None)
            targets = [_DUMMY_LAST4]
            if ticket is not None:
                phone = _MASKED_PHONE.search(ticket.contact or "")  # contacts are stored masked
                if phone:
                    targets.append(phone.group(1))
                if ticket.application_id:
                    row = session.execute(
                        select(Customer.id_last4)
                        .join(Application, Application.customer_id == Customer.id)
                        .where(Application.application_id == ticket.application_id)
                    ).first()
                    if row is not None:
                        targets.append(row[0].upper())
            matched = [hmac.compare_digest(candidate, t.encode()) for t in targets]
            if ticket is not None and any(matched[1:]):
                # the grant is keyed by the ticket number (same width as an application number)
                self.grant(session, sender, ticket.number, "ticket", "ticket_check")
                session.add(VerificationAttempt(sender_id=sender, application_id=ticket.application_id,
                                                result="ok", created_at=now))
                return TicketLookup(VerifyResult("ok", None, None), ticket_view(ticket))
            result = self._failed(session, sender, app_id, now)
            if normalised is not None:  # failures count per ticket as well, across conversations
                ticket_counter = self._counter(session, "ticket", normalised, create=True)
                assert ticket_counter is not None
                if count_failure(ticket_counter, now, APPLICATION_MAX_FAILURES, APPLICATION_FAILURE_WINDOW,
                                 APPLICATION_LOCK) == 0:
                    result = VerifyResult("locked", 0, ticket_counter.locked_until)
            return TicketLookup(result, None)

    def ticket_after_check(self, sender_id: Any, number: Any) -> TicketView | None:
        """A ticket the sender passed :meth:`verify_ticket` for in the last ten minutes, else None."""
        sender = inputs.sender(sender_id)
        normalised = inputs.TICKET_NUMBER.normalise(number)
        if normalised is None:
            return None
        with self.store.session() as session:
            granted = session.execute(select(func.count(Verification.id)).where(
                Verification.sender_id == sender, Verification.application_id == normalised,
                Verification.level == "ticket", Verification.expires_at > self.store.now())).scalar_one()
            ticket = session.execute(select(Ticket).where(Ticket.number == normalised)).scalar_one_or_none()
            return ticket_view(ticket) if granted and ticket is not None else None

    def _failed(self, session: Session, sender: str, app_id: str | None, now: datetime) -> VerifyResult:
        """Count a failed check against the sender and the application; lock and log at the limits."""
        locked_until: datetime | None = None
        sender_counter = self._counter(session, "sender", sender, create=True)
        assert sender_counter is not None
        left = count_failure(sender_counter, now, SENDER_MAX_FAILURES, SENDER_FAILURE_WINDOW, SENDER_LOCK)
        if left == 0:
            locked_until = sender_counter.locked_until
            add_risk_event(
                session,
                self.store.now(),
                sender,
                "verification_lock",
                f"同一会话连续{SENDER_MAX_FAILURES}次身份核验失败，会话锁定30分钟"
                + (f"（最后尝试的申请编号 {app_id}）" if app_id else ""),
            )
        if app_id is not None:
            app_counter = self._counter(session, "application", app_id, create=True)
            assert app_counter is not None
            limit, window, lock = APPLICATION_MAX_FAILURES, APPLICATION_FAILURE_WINDOW, APPLICATION_LOCK
            if count_failure(app_counter, now, limit, window, lock) == 0:
                assert app_counter.locked_until is not None
                locked_until = max(locked_until or app_counter.locked_until, app_counter.locked_until)
                add_risk_event(
                    session,
                    self.store.now(),
                    sender,
                    "verification_lock",
                    f"申请编号 {app_id} 累计{APPLICATION_MAX_FAILURES}次身份核验失败，该编号锁定30分钟",
                )
        result: VerifyStatus = "locked" if locked_until else "failed"
        session.add(VerificationAttempt(sender_id=sender, application_id=app_id, result=result, created_at=now))
        if locked_until:
            return VerifyResult("locked", 0, locked_until)
        return VerifyResult("failed", left, None)

    # --------------------------------------------------------------- OTP

    def send_otp(self, sender_id: Any, application_id: Any) -> OtpSent:
        """Text a 6-digit code (5 min) to the customer's phone; basic verification required."""
        sender = inputs.sender(sender_id)
        now = self.store.now()
        with self.store.session() as session:
            app = self.require(session, sender, application_id, "basic")
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
                code_hash=hash_otp(code),
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
        try:
            # a templated SMS vendor sends its approved "otp" template (deploy/sms_templates.yml) with the code
            # the code's own row names it to the vendor (Tencent: SessionContext), so an unanswered send is looked up
            self.sms.send(phone, OTP_TEXT.format(code=code), kind="otp", fields={"code": code}, context=f"otp:{otp_id}")
        except Exception as exc:
            log.error("SMS gateway failed: %s", exc)
            with self.store.session() as session:
                row = session.get(OtpCode, otp_id)
                if row is not None:
                    row.used = True
            raise ServiceUnavailable("短信发送失败，请稍后再试") from exc
        return OtpSent(masked_phone=mask_phone(phone), expires_at=now + OTP_TTL, sends_left=sends_left)

    def check_otp(self, sender_id: Any, application_id: Any, code: Any) -> OtpCheck:
        """Check the latest code; 'ok' grants a strong verification for 10 minutes."""
        sender = inputs.sender(sender_id)
        app_id = inputs.APPLICATION_ID.require(application_id)
        candidate = inputs.OTP_CODE.normalise(code)
        now = self.store.now()
        with self.store.session() as session:
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
            if candidate is not None and otp_matches(candidate, otp.code_hash):
                otp.used = True
                self.grant(session, sender, app_id, "strong", "otp")
                return "ok"
            otp.attempts += 1
            return "locked" if otp.attempts >= OTP_MAX_ATTEMPTS else "wrong"

    # ------------------------------------------------------------ WeChat

    def bind_wechat_openid(self, customer_id: int, openid: str) -> None:
        """Bind a WeChat OpenID to a customer (admin/seed use)."""
        if not isinstance(openid, str) or not 0 < len(openid.strip()) <= 128:
            raise InvalidInput("OpenID 无效")
        with self.store.session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise NotFound("客户不存在")
            customer.wechat_openid = openid.strip()

    def strong_by_openid(self, sender_id: Any, openid: Any, application_id: Any) -> bool:
        """Strong verification when the application's customer has ``openid`` bound."""
        sender = inputs.sender(sender_id)
        app_id = inputs.APPLICATION_ID.normalise(application_id)
        if app_id is None or not isinstance(openid, str) or not 0 < len(openid) <= 128:
            return False
        with self.store.session() as session:
            row = session.execute(
                select(Customer.wechat_openid)
                .join(Application, Application.customer_id == Customer.id)
                .where(Application.application_id == app_id)
            ).first()
            bound = row[0] if row is not None and row[0] else None
            if bound is None or not hmac.compare_digest(bound.encode(), openid.strip().encode()):
                return False
            self.grant(session, sender, app_id, "strong", "wechat_openid")
            return True
