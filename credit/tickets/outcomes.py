"""How a ticket ended: when and by whom it was closed, the resolution, and the customer's
satisfaction answer to the follow-up (outreach notice ``ticket_followup``).

The table is :class:`credit.db.tickets.TicketOutcome`; this module holds the states, the score
range and the typed view of an outcome.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

TICKET_STATES = ("open", "closed")
SCORES = range(1, 6)  # 1 (very dissatisfied) .. 5 (very satisfied)


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


__all__ = ["TICKET_STATES", "SCORES", "TicketOutcomeView"]
