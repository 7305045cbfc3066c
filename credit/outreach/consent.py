"""退订 / TD and resubscription from a customer's own words, on whichever channel they arrive.

One rule for every channel that can receive a reply (SMS replies through the vendor's uplink callback,
WeChat text messages): a text matching the catalogue's ``outreach.opt_out`` patterns turns the sending
address's contact points to ``subscribed=False``, one matching ``outreach.opt_in`` turns them back, and
the moment is written to ``changed_at``.  An SMS number covers that number's ``sms`` and ``phone``
points (the same line); an OpenID its ``wechat`` point.  Nothing else changes: a notice the law
requires (报送征信前告知) still goes to the borrower (:mod:`outreach.rules`), and the replies here say so.

Framework-free on purpose: the SMS uplink channel and the WeChat service both call :func:`apply_reply`.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine

from credit.catalogue.loader import load_catalogue
from credit.catalogue.outreach import OutreachRules
from credit.db.engine import session_scope
from credit.db.outreach import ContactPoint

logger = logging.getLogger(__name__)

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
#: the contact points a reply from one channel's address speaks for
SCOPE: Dict[str, Tuple[str, ...]] = {"sms": ("sms", "phone"), "wechat": ("wechat",)}
_EDGES = " \t\r\n。.!！,，~～…"


@dataclass(frozen=True)
class ConsentChange:
    """What a consent reply did: ``changed`` names the channels whose subscription flipped, ``unchanged``
    those already so; both empty means the address belongs to no contact point we hold."""

    action: str  # opt_out | opt_in
    channel: str  # where the reply came from: sms | wechat
    changed: Tuple[str, ...]
    unchanged: Tuple[str, ...]
    at: datetime

    @property
    def subscribed(self) -> bool:
        return self.action == OPT_IN

    @property
    def known(self) -> bool:
        return bool(self.changed or self.unchanged)


def consent_intent(text: Optional[str], rules: Optional[OutreachRules] = None) -> Optional[str]:
    """``opt_out``, ``opt_in`` or None for a customer's text (full-width folded, case ignored).  Stopping
    wins when both match: being left alone is the safer reading."""
    rules = rules or load_catalogue().outreach
    folded = unicodedata.normalize("NFKC", text or "").strip(_EDGES).lower()
    if not folded:
        return None
    if any(re.search(pattern, folded, re.IGNORECASE) for pattern in rules.opt_out):
        return OPT_OUT
    if any(re.search(pattern, folded, re.IGNORECASE) for pattern in rules.opt_in):
        return OPT_IN
    return None


def addresses(channel: str, address: str) -> Tuple[str, ...]:
    """How ``address`` may be written in ``contact_points``: a mobile with or without ``+86``."""
    if channel != "sms":
        return (address,)
    bare = address[3:] if address.startswith("+86") else address
    return (bare, f"+86{bare}")


def set_subscription(engine: Engine, channel: str, address: str, action: str, now: datetime) -> ConsentChange:
    """Apply ``action`` to every contact point ``address`` speaks for on ``channel``."""
    if channel not in SCOPE or action not in (OPT_OUT, OPT_IN):
        raise ValueError(f"unknown consent channel or action: {channel!r}, {action!r}")
    wanted = action == OPT_IN
    changed, unchanged = [], []
    with session_scope(engine) as session:
        points = session.execute(select(ContactPoint).where(
            ContactPoint.channel.in_(SCOPE[channel]), ContactPoint.address.in_(addresses(channel, address)))
            .order_by(ContactPoint.id)).scalars().all()
        for point in points:
            if point.subscribed == wanted:
                unchanged.append(point.channel)
                continue
            point.subscribed, point.changed_at = wanted, now
            changed.append(point.channel)
    result = ConsentChange(action, channel, tuple(changed), tuple(unchanged), now)
    logger.info("consent %s via %s: changed %s, already %s", action, channel, list(result.changed) or "-",
                list(result.unchanged) or "-")
    return result


def apply_reply(engine: Engine, channel: str, address: str, text: Optional[str], now: datetime,
                rules: Optional[OutreachRules] = None) -> Optional[ConsentChange]:
    """The consent change a reply asks for, applied; None when the text is no 退订/订阅 at all."""
    action = consent_intent(text, rules)
    if action is None:
        return None
    return set_subscription(engine, channel, address, action, now)


__all__ = ["ConsentChange", "OPT_IN", "OPT_OUT", "SCOPE", "apply_reply", "consent_intent", "set_subscription"]
