"""The SMS outbox: every text the gateway sends (the development gateway only writes it here)."""
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
