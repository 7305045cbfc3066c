"""The channels this deployment can deliver on (a registry: the engine tries a rule's channels in order
and skips any not registered here)."""
from __future__ import annotations

from typing import Dict

from sqlalchemy.engine import Engine

from outreach.channels import Channel, SmsChannel
from outreach.wechat import wechat_channel


def default_channels(engine: Engine) -> Dict[str, Channel]:
    channels: Dict[str, Channel] = {"sms": SmsChannel(engine)}
    wechat = wechat_channel()
    if wechat is not None:
        channels["wechat"] = wechat
    return channels


__all__ = ["default_channels"]
