"""Conversation ids namespaced per channel.

Every channel turns its own user id (WeChat openid, WeCom external_userid, socket.io session, Twilio CallSid,
IVR call id, REST sender) into ``<prefix>:<raw id>``.  A user of one channel can only
ever name conversations inside that channel's namespace, so no channel can reach
another channel's conversation or the verified state stored in it: a REST client that
sends ``sender: "wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M"`` lands in
``rest:wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M``, not in the WeChat conversation.
"""
from __future__ import annotations

import re
from typing import Tuple

WECHAT = "wx"
WEB = "web"
TELEPHONE = "tel"  # twilio_zh: one conversation per call (CallSid)
IVR = "ivr"  # JSON IVR webhook: one conversation per call (call_id)
REST = "rest"
WECOM_KF = "kf"  # 微信客服 (WeCom kf): kf:<external_userid>

PREFIXES = (WECHAT, WEB, TELEPHONE, IVR, REST, WECOM_KF)

MAX_RAW_ID_LENGTH = 128
_RAW_ID = re.compile(r"[A-Za-z0-9_\-.:@+=]{1," + str(MAX_RAW_ID_LENGTH) + r"}")


class InvalidSenderId(ValueError):
    """The channel-side id is empty, too long or has characters no channel uses."""


def is_valid_raw_id(raw: object) -> bool:
    return isinstance(raw, str) and bool(_RAW_ID.fullmatch(raw))


def namespaced(prefix: str, raw: object) -> str:
    """``namespaced("wx", "oABC")`` -> ``"wx:oABC"``; raises ``InvalidSenderId`` for bad ids."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown channel prefix {prefix!r}")
    if not is_valid_raw_id(raw):
        raise InvalidSenderId(f"invalid {prefix} user id")
    return f"{prefix}:{raw}"


def split(sender_id: str) -> Tuple[str | None, str]:
    """``"wx:oABC"`` -> ``("wx", "oABC")``; an id without a known prefix -> ``(None, id)``."""
    prefix, sep, raw = sender_id.partition(":")
    if sep and prefix in PREFIXES:
        return prefix, raw
    return None, sender_id


def raw_id(prefix: str, sender_id: str) -> str:
    """The channel-side id of a conversation of channel ``prefix``; ValueError otherwise."""
    found, raw = split(sender_id)
    if found != prefix:
        raise ValueError(f"{sender_id!r} is not a {prefix} conversation")
    return raw
