"""The channels this deployment can deliver on (a registry: the engine tries a rule's channels in order
and skips any not registered here).

``phone``: the JSON IVR platform when ``IVR_OUTBOUND_URL`` is set (production: a domestic caller ID),
else Twilio when its outbound settings are (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``,
``TWILIO_CALLER_ID``, ``PUBLIC_BASE_URL``); see :mod:`outreach.phone`."""
from __future__ import annotations

from typing import Dict

from sqlalchemy.engine import Engine

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
    return channels


__all__ = ["default_channels"]
