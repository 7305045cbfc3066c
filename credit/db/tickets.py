"""Tickets (complaints, negotiations, certificates, call-backs), the numbers customers leave for them, hand-offs to
human agents and the risk events recorded for the risk team.

A closed ticket's outcome is a table of its own, one row per closed ticket, rather than new columns on
``tickets``: the schema story is ``create_all`` with no ``ALTER``, so a new table is created on an existing
``var/credit.db`` while new columns would not be.  The row goes with its ticket (``ON DELETE CASCADE``, like
``ticket_contacts``), so retention and a reset need not know about it."""
from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
)

from credit.db.base import Base, UtcDateTime, utcnow


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


MAX_RESOLUTION_CHARS = 200  # "a short resolution": what was done, in a sentence or two
MAX_COMMENT_CHARS = 500


class TicketOutcome(Base):
    """A closed ticket's outcome.  Free texts are stored masked (like the ticket's own detail)."""

    __tablename__ = "ticket_outcomes"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, unique=True)
    closed_at = Column(UtcDateTime, nullable=False, index=True)
    closed_by = Column(String(64), nullable=False)  # the operator (audited in ops as well)
    resolution = Column(String(MAX_RESOLUTION_CHARS), nullable=False)  # masked
    satisfaction = Column(SmallInteger, nullable=True)  # 1..5, the latest answer
    satisfaction_comment = Column(String(MAX_COMMENT_CHARS), nullable=True)  # masked, e.g. "满意"/"不满意"
    answered_at = Column(UtcDateTime, nullable=True)
