"""WeCom's sending rules for kf/send_msg, enforced before anything is sent (not discovered by errors):

* only within 48 hours of the customer's last message;
* at most 5 messages in that window; each new customer message opens a fresh allowance.

When a reply needs more messages than are left, the last allowed one says so (``LIMIT_NOTE``) and the rest
is held: the channel records it, and sends it when the customer asks for it ("继续").  Pure functions over
a :class:`WindowState`; the channel keeps the state in its ledger.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from connectors.wecom_kf.render import Outgoing, with_note

WINDOW_S = 48 * 3600
MAX_MESSAGES = 5
LIMIT_NOTE = "内容比较多，这里一次最多只能给您发 5 条消息。您回复“继续”，我接着把剩下的发给您。"
LIMIT, EXPIRED = "limit", "window_expired"


@dataclass(frozen=True)
class WindowState:
    last_customer_at: Optional[float]  # epoch seconds of the customer's last message
    sent: int = 0  # messages sent since then

    def is_open(self, now: float) -> bool:
        return self.last_customer_at is not None and now - self.last_customer_at <= WINDOW_S

    def remaining(self, now: float) -> int:
        return max(0, MAX_MESSAGES - self.sent) if self.is_open(now) else 0

    def after_customer_message(self, at: float) -> "WindowState":
        """A customer message renews the window and the allowance (an older one changes nothing)."""
        if self.last_customer_at is not None and at < self.last_customer_at:
            return self
        return WindowState(at, 0)


@dataclass(frozen=True)
class SendPlan:
    send: List[Outgoing] = field(default_factory=list)
    held: List[Outgoing] = field(default_factory=list)  # not sent now
    reason: Optional[str] = None  # LIMIT | EXPIRED when something is held
    noted: bool = False  # the last message sent tells the customer


def plan(items: Sequence[Outgoing], state: WindowState, now: float) -> SendPlan:
    items = list(items)
    if not items:
        return SendPlan()
    left = state.remaining(now)
    if left == 0:
        return SendPlan([], items, LIMIT if state.is_open(now) else EXPIRED)
    if len(items) <= left:
        return SendPlan(items)
    last, rest = with_note(items[left - 1], LIMIT_NOTE)
    return SendPlan(items[:left - 1] + [last], ([rest] if rest else []) + items[left:], LIMIT, True)


__all__ = ["WindowState", "SendPlan", "plan", "WINDOW_S", "MAX_MESSAGES", "LIMIT_NOTE", "LIMIT", "EXPIRED"]
