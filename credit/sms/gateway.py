"""SMS gateway abstraction, selected with ``SMS_GATEWAY``.

* ``outbox`` (the default) writes each message to the ``sms_outbox`` table, where tests, demos and an
  operator can read it;
* ``tencent`` sends through Tencent Cloud SMS (:mod:`credit.sms.tencent`), which delivers only
  pre-approved templates.

A send therefore says what it is, not only what it reads: ``kind`` (an outreach notice kind, or
``otp``) and its ``fields`` choose and fill a vendor's template, ``context`` (the notice's key) is
handed back by vendors that can look a message up again (:class:`ReconcilingSmsGateway`).  The
outbox ignores all three and stores the text.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Mapping, Optional, Protocol, runtime_checkable

from sqlalchemy.engine import Engine

from credit.db.base import utcnow
from credit.db.engine import get_engine, session_scope
from credit.db.sms import SmsOutbox
from credit.sms.common import SmsConfigError, SmsSendError, SmsStatusUnknown

SMS_GATEWAYS = ("outbox", "tencent")


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, phone: str, text: str, kind: Optional[str] = None, fields: Optional[Mapping[str, str]] = None,
             context: Optional[str] = None) -> str | None:
        """Deliver ``text`` to ``phone`` (full number) or raise; the vendor's message id when it gives one.
        A template-only vendor needs ``kind`` and ``fields`` and raises without them."""
        ...


@runtime_checkable
class ReconcilingSmsGateway(Protocol):
    def find_sent(self, phone: str, context: str, since: datetime, now: datetime) -> Optional[str]:
        """The vendor's id of the message sent to ``phone`` with ``context`` since ``since``, None if it has
        none; raises :class:`SmsStatusUnknown` when it cannot tell."""
        ...


class OutboxSmsGateway:
    """Stores messages in ``sms_outbox`` instead of sending them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, phone: str, text: str, kind: Optional[str] = None, fields: Optional[Mapping[str, str]] = None,
             context: Optional[str] = None) -> str | None:
        with session_scope(self.engine) as session:
            row = SmsOutbox(phone=phone, text=text, created_at=utcnow())
            session.add(row)
            session.flush()
            return f"outbox:{row.id}"


class UnknownSmsGateway(ValueError):
    """``SMS_GATEWAY`` names a gateway that does not exist."""


def get_sms_gateway(engine: Engine | None = None, name: str | None = None) -> SmsGateway:
    """Gateway chosen by ``name`` or ``$SMS_GATEWAY`` (default ``outbox``); a vendor's missing setting is
    an :class:`SmsConfigError` here, at start, naming the variable."""
    chosen = (name or os.environ.get("SMS_GATEWAY") or "outbox").strip().lower()
    if chosen == "outbox":
        return OutboxSmsGateway(engine if engine is not None else get_engine())
    if chosen == "tencent":
        from credit.sms.tencent import tencent_gateway_from_env  # the vendor SDK only when it is chosen

        return tencent_gateway_from_env()
    raise UnknownSmsGateway(
        f"未知的短信网关 SMS_GATEWAY={chosen!r}；目前只实现了: {', '.join(SMS_GATEWAYS)} "
        f"(unknown SMS gateway {chosen!r}; implemented: {', '.join(SMS_GATEWAYS)})"
    )


__all__ = ["SmsGateway", "ReconcilingSmsGateway", "OutboxSmsGateway", "UnknownSmsGateway", "get_sms_gateway",
           "SmsConfigError", "SmsSendError", "SmsStatusUnknown", "SMS_GATEWAYS"]
