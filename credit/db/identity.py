"""Identity checks: failure counters and lockouts, every attempt, granted verifications and one-time SMS codes."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    String,
    UniqueConstraint,
)

from credit.db.base import Base, UtcDateTime, utcnow


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
