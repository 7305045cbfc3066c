"""The channels this deployment can deliver on (a registry: the engine tries a rule's channels in order
and skips any not registered here).

微信客服 (``wecom_kf``) is never registered: it only replies inside a window the customer opened (48 hours
after their message, 5 messages; :data:`credit.catalogue.outreach.REPLY_ONLY_CHANNELS`), so a notice, which
reaches out first, never goes through it; a rule naming it is refused when the catalogue loads.

``phone``: the JSON IVR platform when ``IVR_OUTBOUND_URL`` is set (production: a domestic caller ID),
else Twilio when its outbound settings are (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``,
``TWILIO_CALLER_ID``, ``PUBLIC_BASE_URL``); see :mod:`outreach.phone`."""
from __future__ import annotations

from typing import Dict

from sqlalchemy.engine import Engine

from credit.catalogue.outreach import REPLY_ONLY_CHANNELS
from outreach.channels import Channel, SmsChannel
from outreach.phone import phone_channel
from outreach.wechat import wechat_channel


def default_channels(engine: Engine) -> Dict[str, Channel]:
    channels: Dict[str, Channel] = {"sms": SmsChannel(engine)}
    wechat = wechat_channel()
    if wechat is not None:
        channels["wechat"] = wechat
    phone = phone_channel(engine)
    if phone is not None:
        channels["phone"] = phone
    assert not set(channels) & set(REPLY_ONLY_CHANNELS), "a reply-only channel cannot carry notices"
    return channels


__all__ = ["default_channels"]
