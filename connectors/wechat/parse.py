"""Inbound WeChat XML: a defused gate, then wechatpy's parser.

WeChat never sends a DOCTYPE, entities or processing tricks, so any of them (XXE,
billion laughs, external DTDs) is refused before wechatpy/xmltodict see the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.events import ClickEvent, SubscribeEvent, SubscribeScanEvent, UnsubscribeEvent
from wechatpy.messages import TextMessage, VoiceMessage
from wechatpy.parser import parse_message

from connectors import ids
from connectors.http import bad_request

MAX_TEXT_CHARS = 2000
_MENU_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def ensure_safe_xml(data: Union[bytes, str]) -> str:
    """Well-formed XML without DTD or entities whose root is ``<xml>``, as text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise bad_request("empty_body", "请求体为空", "empty body")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise bad_request("forbidden_xml", "XML 含 DTD 或实体声明，已拒绝",
                          "XML with DTD or entity declarations refused") from None
    except (ParseError, ValueError, UnicodeError):
        raise bad_request("malformed_xml", "XML 格式错误", "malformed XML") from None
    if root.tag != "xml":
        raise bad_request("malformed_xml", "XML 根元素应为 <xml>", "root element must be <xml>")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("bad_encoding", "XML 必须为 UTF-8 编码", "XML must be UTF-8") from None


@dataclass(frozen=True)
class Inbound:
    """What the channel needs from one callback."""

    kind: str  # text | voice | subscribe | click | unsubscribe | event | unsupported
    openid: str  # FromUserName
    account: str  # ToUserName (the official account's original id)
    create_time: int
    msg_id: int | None = None
    text: str = ""  # text content, voice Recognition or menu key
    msg_type: str = ""

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime (+ event) for events."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.kind}"


def parse_inbound(xml: str) -> Inbound:
    try:
        message = parse_message(xml)
        openid = message.source
        account = message.target or ""
        create_time = message.time
        msg_id = message.id
    except (KeyError, TypeError, ValueError, AttributeError):
        raise bad_request("malformed_message", "消息字段缺失或格式错误",
                          "missing or malformed message fields") from None
    if message is None:
        raise bad_request("malformed_message", "消息为空", "empty message")
    if not isinstance(openid, str) or not ids.is_valid_raw_id(openid):
        raise bad_request("bad_openid", "FromUserName 无效", "invalid FromUserName")
    if not isinstance(account, str) or len(account) > 128:
        raise bad_request("bad_account", "ToUserName 无效", "invalid ToUserName")
    if not isinstance(create_time, int) or create_time <= 0:
        raise bad_request("bad_create_time", "CreateTime 无效", "invalid CreateTime")
    if not isinstance(msg_id, int) or msg_id < 0:
        raise bad_request("bad_msg_id", "MsgId 无效", "invalid MsgId")
    base = dict(openid=openid, account=account, create_time=create_time, msg_id=msg_id or None, msg_type=message.type)
    if isinstance(message, TextMessage):
        content = message.content
        if not isinstance(content, str):
            content = ""
        return Inbound(kind="text", text=content[:MAX_TEXT_CHARS], **base)
    if isinstance(message, VoiceMessage):
        recognition = message.recognition if isinstance(message.recognition, str) else ""
        return Inbound(kind="voice", text=recognition[:MAX_TEXT_CHARS], **base)
    if isinstance(message, (SubscribeEvent, SubscribeScanEvent)):
        return Inbound(kind="subscribe", **base)
    if isinstance(message, UnsubscribeEvent):
        return Inbound(kind="unsubscribe", **base)
    if isinstance(message, ClickEvent):
        key = message.key if isinstance(message.key, str) else ""
        if not _MENU_KEY.fullmatch(key):
            raise bad_request("bad_menu_key", "菜单 EventKey 应为意图名", "menu EventKey must be an intent name")
        return Inbound(kind="click", text=key, **base)
    if message.type == "event":
        return Inbound(kind="event", **base)
    return Inbound(kind="unsupported", **base)
