"""SMS gateway abstraction.

Only the ``outbox`` gateway exists: it writes each message to the ``sms_outbox`` table,
where tests, demos and an operator can read it.  A real provider would be another class
implementing :class:`SmsGateway`, selected with ``SMS_GATEWAY``.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine

from credit.db import SmsOutbox, get_engine, session_scope, utcnow

SMS_GATEWAYS = ("outbox",)


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> str | None:
        """Deliver ``text`` to ``phone`` (full number) or raise; the vendor's message id when it gives one."""
        ...


class OutboxSmsGateway:
    """Stores messages in ``sms_outbox`` instead of sending them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, phone: str, text: str) -> str | None:
        with session_scope(self.engine) as session:
            row = SmsOutbox(phone=phone, text=text, created_at=utcnow())
            session.add(row)
            session.flush()
            return f"outbox:{row.id}"


class UnknownSmsGateway(ValueError):
    """``SMS_GATEWAY`` names a gateway that does not exist."""


def get_sms_gateway(engine: Engine | None = None, name: str | None = None) -> SmsGateway:
    """Gateway chosen by ``name`` or ``$SMS_GATEWAY`` (default ``outbox``)."""
    chosen = (name or os.environ.get("SMS_GATEWAY") or "outbox").strip().lower()
    if chosen == "outbox":
        return OutboxSmsGateway(engine if engine is not None else get_engine())
    raise UnknownSmsGateway(
        f"未知的短信网关 SMS_GATEWAY={chosen!r}；目前只实现了: {', '.join(SMS_GATEWAYS)} "
        f"(unknown SMS gateway {chosen!r}; implemented: {', '.join(SMS_GATEWAYS)})"
    )
