"""Delivery adapters, one per channel, in a registry.  Each sends to one address and returns the
vendor's message id, and can look a message up again by what it sent (reconciliation after a crash
between the vendor's acceptance and our bookkeeping: found means sent, never sent twice).

SMS goes through the project's SMS gateway (:mod:`credit.sms.gateway`; the outbox by default); WeChat template
messages are :mod:`outreach.wechat`; :mod:`outreach.registry` puts together the ones configured.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Optional, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine

from credit.db.engine import session_scope
from credit.db.sms import SmsOutbox
from credit.sms.common import SmsSendUnconfirmed
from credit.sms.gateway import ReconcilingSmsGateway, SmsGateway, SmsSendError, SmsStatusUnknown, get_sms_gateway


class DeliveryFailed(Exception):
    """The vendor refused or could not be reached; the engine retries with backoff."""


class DeliveryUnknown(Exception):
    """The channel cannot tell whether an interrupted message arrived: the engine gives it up rather
    than risk sending it twice."""


class DeliveryUnconfirmed(Exception):
    """The vendor did not answer the send and does not show the message yet: it may have arrived.  The
    engine keeps its claim and asks the channel again (:meth:`Channel.find`) once the lease runs out —
    found, it is sent; not found, it is retried; never resent before that."""


@dataclass(frozen=True)
class Delivery:
    """One notice to one address: the rendered text and what it was rendered from."""

    notice_id: int
    key: str  # unique per notice: the vendors' idempotency key where they take one
    kind: str
    fields: Dict[str, str]
    text: str


class Channel(Protocol):
    name: str
    private: bool  # True: the full text; False: the masked "sms" text (a screen others may see)

    def handles(self, kind: str) -> bool:
        """Whether this channel can carry notices of ``kind`` (WeChat: a template is configured)."""
        ...

    def send(self, address: str, delivery: Delivery) -> str:
        """Deliver or raise :class:`DeliveryFailed`; the vendor's message id."""
        ...

    def find(self, address: str, delivery: Delivery, since: datetime, now: datetime) -> Optional[str]:
        """The vendor's id of this message if the vendor already has it, None if it has not; raises
        :class:`DeliveryUnknown` when it cannot tell."""
        ...


class SmsChannel:
    name = "sms"
    private = False

    def __init__(self, engine: Engine, gateway: Optional[SmsGateway] = None) -> None:
        self.engine = engine
        self.gateway = gateway if gateway is not None else get_sms_gateway(engine)

    def handles(self, kind: str) -> bool:
        return True

    def send(self, address: str, delivery: Delivery) -> str:
        """The kind and fields choose a vendor's approved template; the key comes back on reconciliation."""
        try:
            return self.gateway.send(address, delivery.text, kind=delivery.kind, fields=delivery.fields,
                                     context=delivery.key) or f"sms:{delivery.notice_id}"
        except SmsSendUnconfirmed as error:  # no answer, not in the vendor's status yet: look again, never resend
            raise DeliveryUnconfirmed(f"短信发送未获应答：{error}"[:200]) from error
        except SmsStatusUnknown as error:  # no answer, and the vendor cannot say: give it up rather than repeat it
            raise DeliveryUnknown(str(error)) from error
        except Exception as error:  # noqa: BLE001 - any other vendor failure (a refusal) is retried
            code = f" {error.code}" if isinstance(error, SmsSendError) else ""
            raise DeliveryFailed(f"短信发送失败：{type(error).__name__}{code}"[:200]) from error

    def find(self, address: str, delivery: Delivery, since: datetime, now: datetime) -> Optional[str]:
        """A vendor that can look messages up is asked by the notice's key (Tencent: SessionContext).
        Otherwise the outbox is the vendor: the newest message to this number with exactly this text that
        no other notice has claimed (texts name the loan, the instalment and the date)."""
        if isinstance(self.gateway, ReconcilingSmsGateway):
            try:
                return self.gateway.find_sent(address, delivery.key, since, now)
            except SmsStatusUnknown as error:
                raise DeliveryUnknown(str(error)) from error
        from credit.db.outreach import OutreachNotice

        with session_scope(self.engine) as session:
            taken = select(OutreachNotice.vendor_ref).where(OutreachNotice.vendor_ref.is_not(None),
                                                            OutreachNotice.id != delivery.notice_id)
            refs = {ref for (ref,) in session.execute(taken)}
            rows = session.execute(select(SmsOutbox.id).where(SmsOutbox.phone == address,
                                                              SmsOutbox.text == delivery.text)
                                   .order_by(SmsOutbox.id.desc())).all()
        return next((f"outbox:{row_id}" for (row_id,) in rows if f"outbox:{row_id}" not in refs), None)


__all__ = ["Channel", "Delivery", "DeliveryFailed", "DeliveryUnconfirmed", "DeliveryUnknown", "SmsChannel"]
