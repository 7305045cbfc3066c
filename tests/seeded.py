"""The moment the outreach tests seed the demo records at, and a business clock they move by hand.

Seeded at 10:00 Beijing on 2026-12-01: SQ202610300006's first instalment is due 12-03 (a T-1 reminder on
12-02), SQ202609280007's fell due 11-28 and is unpaid (its auto-debit failed that morning).  The ``db``
fixture (tests/conftest.py) is a fresh SQLite loan database seeded at this moment.
"""
from __future__ import annotations

from datetime import datetime

from credit.policy import CHINA_TZ

SEEDED = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)


class Clock:
    """``clock()`` is ``clock.now``; a test sets ``clock.now`` to move time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


__all__ = ["SEEDED", "Clock"]
