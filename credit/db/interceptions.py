"""The compliance interceptions: one row for every bot message the output guard stopped or masked
(:mod:`server.patches.output`, :mod:`credit.guard`).

An audit record for the regulator and ops: which rule, in which conversation, after which intent and
action, which response, what was done (``masked`` in place, or ``replaced`` by the safe line with a
hand-off), the text with personal data masked (never the raw text) and the model that chose it.

A table of its own in the credit database rather than tracker events: the console's dashboard already
reads this database (tickets, hand-offs, risk events), the hand-off the guard opens is written in the
same transaction, and an audit record must outlive a conversation's retention and a PIPL deletion of
the conversation (kept like risk events, purged after the tickets' retention; ``server/purge.py``).
``create_all`` makes it on an existing ``var/credit.db`` too (a new table, no ``ALTER``).
"""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Text

from credit.db.base import Base, UtcDateTime, utcnow

DECISIONS = ("masked", "replaced", "withheld")  # withheld: an outreach notice not sent (outreach/engine.py)


class Interception(Base):
    __tablename__ = "compliance_interceptions"

    id = Column(Integer, primary_key=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow, index=True)
    sender_id = Column(String(200), nullable=False, index=True)  # the conversation (or notice) it belongs to
    channel = Column(String(32), nullable=False)  # rest / web / wx / tel / ivr / sms ...
    rule = Column(String(40), nullable=False, index=True)  # the first rule broken (credit.compliance.RULE_*)
    rules = Column(String(300), nullable=False, default="")  # every rule broken, comma-separated
    decision = Column(String(16), nullable=False)  # masked | replaced | withheld
    intent = Column(String(100), nullable=True)
    action = Column(String(100), nullable=True)
    response = Column(String(100), nullable=True)  # the domain response name (utter_*), when there is one
    text = Column(Text, nullable=False, default="")  # the original, personal data masked
    model_id = Column(String(100), nullable=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="SET NULL"), nullable=True)
