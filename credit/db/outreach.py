"""Tables for reaching out first: the customer's own contact points and consents, emergency
contacts (kept as lenders keep them, and never written to), repayment and deduction records,
and the outreach notices with every delivery attempt.

The notices are the engine's whole state (``outreach/``): a notice is planned once under a
unique key (kind + subject + occurrence), claimed by one worker with a compare-and-set on its
status, and each attempt is written to ``outreach_attempts`` (the audit trail).  Importing this
module registers the tables on :data:`credit.db.base.Base`; :func:`credit.db.engine.init_db` creates them.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint

from credit.db.base import Base, Money, UtcDateTime, utcnow

CHANNELS = ("wechat", "sms", "phone", "web")
NOTICE_STATES = ("pending", "sending", "sent", "failed", "given_up", "suppressed")


class ContactPoint(Base):
    """One of the borrower's own ways to be reached, with its consent.  ``verified``: the address was
    proven to be theirs (registered mobile, bound OpenID); only verified points are written to.
    ``subscribed`` turns False on 退订/TD and back on a resubscription."""

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contact_point"),)

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)  # wechat | sms | phone | web
    address = Column(String(200), nullable=False)  # OpenID, mobile number, or web session id
    verified = Column(Boolean, nullable=False, default=False)
    subscribed = Column(Boolean, nullable=False, default=True)
    changed_at = Column(UtcDateTime, nullable=False, default=utcnow)


class EmergencyContact(Base):
    """A third party the borrower named.  Held because lenders hold them; outreach never uses it."""

    __tablename__ = "emergency_contacts"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    name = Column(String(64), nullable=False)
    relation = Column(String(32), nullable=False)
    phone = Column(String(20), nullable=False)


class RepaymentRecord(Base):
    """A repayment or an automatic deduction attempt on one instalment."""

    __tablename__ = "repayment_records"

    id = Column(Integer, primary_key=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    period = Column(Integer, nullable=False)
    kind = Column(String(16), nullable=False)  # auto_debit | manual | transfer
    result = Column(String(16), nullable=False)  # success | failed
    amount = Column(Money, nullable=False)
    reason = Column(String(200), nullable=True)  # e.g. 余额不足
    at = Column(UtcDateTime, nullable=False, default=utcnow)


class OutreachNotice(Base):
    __tablename__ = "outreach_notices"
    __table_args__ = (Index("ix_outreach_due", "status", "due_at"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(120), nullable=False, unique=True)  # kind:subject:occurrence — sent at most once
    kind = Column(String(40), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    subject = Column(String(40), nullable=False)  # application or ticket number the notice is about
    period = Column(Integer, nullable=True)  # the instalment, for repayment notices
    mandatory = Column(Boolean, nullable=False, default=False)  # sent despite 退订 (legal duty)
    due_at = Column(UtcDateTime, nullable=False)
    status = Column(String(16), nullable=False, default="pending")
    fields = Column(Text, nullable=False, default="{}")  # template fields as JSON (no full numbers)
    channel = Column(String(16), nullable=True)  # chosen at delivery
    contact_point_id = Column(Integer, ForeignKey("contact_points.id"), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UtcDateTime, nullable=True)
    claimed_by = Column(String(64), nullable=True)
    claimed_at = Column(UtcDateTime, nullable=True)
    vendor_ref = Column(String(200), nullable=True)
    reason = Column(String(200), nullable=True)  # why held, suppressed or given up
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    sent_at = Column(UtcDateTime, nullable=True)


class OutreachAttempt(Base):
    """Audit trail: every attempt, hold and suppression, with the channel and the outcome."""

    __tablename__ = "outreach_attempts"

    id = Column(Integer, primary_key=True)
    notice_id = Column(Integer, ForeignKey("outreach_notices.id"), nullable=False, index=True)
    at = Column(UtcDateTime, nullable=False, default=utcnow)
    worker = Column(String(64), nullable=False)
    channel = Column(String(16), nullable=True)
    outcome = Column(String(16), nullable=False)  # sent|failed|held|suppressed|reconciled|given_up|conversation
    detail = Column(Text, nullable=False, default="")  # masked


__all__ = ["CHANNELS", "NOTICE_STATES", "ContactPoint", "EmergencyContact", "RepaymentRecord", "OutreachNotice",
           "OutreachAttempt"]
