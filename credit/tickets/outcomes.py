"""How a ticket ended: when and by whom it was closed, the resolution, and the customer's
satisfaction answer to the follow-up (outreach notice ``ticket_followup``).

A table of its own, one row per closed ticket, rather than new columns on ``tickets``: the
project's schema story is :func:`credit.db.base.init_db` (``create_all``) with no ``ALTER``, so a new
table is created on an existing ``var/credit.db`` while new columns would not be, and every
``Ticket`` query of an older database would then fail.  ``tickets.status`` (already there) turns
``closed``.  Importing this module registers the table on :data:`credit.db.base.Base` (as
:mod:`credit.db.outreach` does); the row goes with its ticket (``ON DELETE CASCADE``, like
``ticket_contacts``), so retention and a reset need not know about it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer, SmallInteger, String

from credit.db.base import Base, UtcDateTime

TICKET_STATES = ("open", "closed")
MAX_RESOLUTION_CHARS = 200  # "a short resolution": what was done, in a sentence or two
MAX_COMMENT_CHARS = 500
SCORES = range(1, 6)  # 1 (very dissatisfied) .. 5 (very satisfied)


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


@dataclass(frozen=True)
class TicketOutcomeView:
    number: str
    kind: str
    closed_at: datetime
    closed_by: str
    resolution: str
    satisfaction: Optional[int]
    comment: Optional[str]
    answered_at: Optional[datetime]


__all__ = ["TICKET_STATES", "MAX_RESOLUTION_CHARS", "MAX_COMMENT_CHARS", "SCORES", "TicketOutcome",
           "TicketOutcomeView"]
