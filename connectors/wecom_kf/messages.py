"""Entries of ``kf/sync_msg``'s ``msg_list`` as typed messages, one small parser per ``msgtype`` and per
event type (registries).  An entry WeCom should never send (no msgid, bad ids) gives ``None`` and is
logged by the caller; an unknown type is kept as ``unsupported`` (the customer still gets an answer).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from connectors import ids

CUSTOMER = 3  # origin: 微信客户发送的消息
SYSTEM = 4  # origin: 系统推送的事件消息
SERVICER = 5  # origin: 接待人员在企业微信客户端发送的消息
MAX_TEXT_CHARS = 2000
MAX_ID_CHARS = 128

# session_status_change change_type
TAKEN_FROM_QUEUE, TRANSFERRED, ENDED, REOPENED = 1, 2, 3, 4


@dataclass(frozen=True)
class KfMessage:
    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int
    origin: int
    kind: str  # text | voice | image | unsupported | enter_session | session_status | send_fail | event
    text: str = ""  # text content, or a voice message's transcription where WeCom gives one
    menu_id: str = ""  # a msgmenu click: the click id of our menu
    welcome_code: str = ""  # enter_session: the 20-second code for the welcome
    change_type: int = 0  # session_status_change
    fail_msgid: str = ""  # msg_send_fail
    fail_type: int = 0

    @property
    def from_customer(self) -> bool:
        return self.origin == CUSTOMER

    @property
    def sender_id(self) -> str:
        return f"{ids.WECOM_KF}:{self.external_userid}"


def _str(value: Any, limit: int = MAX_ID_CHARS) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _body(entry: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    body = entry.get(key)
    return body if isinstance(body, dict) else {}


Fields = Dict[str, Any]


def _text(entry: Mapping[str, Any]) -> Fields:
    body = _body(entry, "text")
    return {"kind": "text", "text": _str(body.get("content"), MAX_TEXT_CHARS), "menu_id": _str(body.get("menu_id"))}


def _voice(entry: Mapping[str, Any]) -> Fields:
    # kf voice messages carry a media_id; a transcription is used where WeCom includes one
    body = _body(entry, "voice")
    spoken = next((body[k] for k in ("text", "recognition") if isinstance(body.get(k), str) and body[k].strip()), "")
    return {"kind": "voice", "text": spoken[:MAX_TEXT_CHARS]}


def _image(entry: Mapping[str, Any]) -> Fields:
    return {"kind": "image"}


def _enter_session(event: Mapping[str, Any]) -> Fields:
    return {"kind": "enter_session", "welcome_code": _str(event.get("welcome_code"))}


def _session_status(event: Mapping[str, Any]) -> Fields:
    return {"kind": "session_status", "change_type": _int(event.get("change_type"))}


def _send_fail(event: Mapping[str, Any]) -> Fields:
    return {"kind": "send_fail", "fail_msgid": _str(event.get("fail_msgid")), "fail_type": _int(event.get("fail_type"))}


MESSAGE_PARSERS: Dict[str, Callable[[Mapping[str, Any]], Fields]] = {
    "text": _text,
    "voice": _voice,
    "image": _image,
}
EVENT_PARSERS: Dict[str, Callable[[Mapping[str, Any]], Fields]] = {
    "enter_session": _enter_session,
    "session_status_change": _session_status,
    "msg_send_fail": _send_fail,
}


def parse_entry(entry: Any) -> Optional[KfMessage]:
    """One ``msg_list`` entry, or None when it lacks what every entry has (msgid, valid ids)."""
    if not isinstance(entry, dict):
        return None
    msgid = _str(entry.get("msgid"))
    msgtype = _str(entry.get("msgtype"), 32)
    if not msgid or not msgtype:
        return None
    if msgtype == "event":
        event = _body(entry, "event")
        open_kfid, external_userid = _str(event.get("open_kfid")), _str(event.get("external_userid"))
        parser = EVENT_PARSERS.get(_str(event.get("event_type"), 64))
        fields = parser(event) if parser else {"kind": "event"}
        origin = SYSTEM
    else:
        open_kfid, external_userid = _str(entry.get("open_kfid")), _str(entry.get("external_userid"))
        parser = MESSAGE_PARSERS.get(msgtype)
        fields = parser(entry) if parser else {"kind": "unsupported"}
        origin = _int(entry.get("origin"))
    if not (ids.is_valid_raw_id(open_kfid) and ids.is_valid_raw_id(external_userid)):
        return None
    return KfMessage(msgid=msgid, open_kfid=open_kfid, external_userid=external_userid,
                     send_time=_int(entry.get("send_time")), origin=origin, **fields)


__all__ = ["KfMessage", "parse_entry", "CUSTOMER", "SYSTEM", "SERVICER", "MESSAGE_PARSERS", "EVENT_PARSERS",
           "TAKEN_FROM_QUEUE", "TRANSFERRED", "ENDED", "REOPENED"]
