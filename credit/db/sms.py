"""The SMS outbox (every text the development gateway sends is written here) and the rules sent by SMS on request."""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    String,
    Text,
)

from credit.db.base import Base, UtcDateTime, utcnow


class SmsOutbox(Base):
    __tablename__ = "sms_outbox"

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class RulesSms(Base):
    """A rules SMS sent on request (issue 28): which rules went to whose verified registered mobile, when.

    The audit trail and the limit (the same rules at most once a day to a number); the number itself is kept
    masked, the text is the approved template of its kind (``deploy/sms_templates.yml``)."""

    __tablename__ = "rules_sms"

    id = Column(Integer, primary_key=True)
    application_id = Column(String(14), nullable=False, index=True)
    sender_id = Column(String(200), nullable=False)
    kind = Column(String(32), nullable=False)  # prepayment | repayment | overdue | … (credit/rules_sms.py)
    phone_masked = Column(String(20), nullable=False)
    reference = Column(String(64), nullable=True)  # the gateway's message id
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
