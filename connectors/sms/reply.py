"""The body of Tencent Cloud's reply callback (上行短信回调), documented as JSON:
``{"extend": "", "mobile": "13xxxxxxxxx", "nationcode": "86", "sign": "…", "text": "…", "time": 1457336869}``,
answered with ``{"result": 0, "errmsg": "OK"}`` (https://intl.cloud.tencent.com/document/api/382/43548).

Read strictly: a field missing or of the wrong type is a bilingual 400, so a malformed call changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping

from connectors.http import bad_request

ACK: Dict[str, Any] = {"result": 0, "errmsg": "OK"}
MAX_TEXT_CHARS = 1000
_DIGITS = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True)
class UplinkReply:
    mobile: str  # the number without its country code
    nationcode: str  # "86" for mainland China
    text: str  # what the customer wrote
    sign: str  # the signature of the message they answered
    time: int  # Unix seconds
    extend: str = ""  # the channel's extension code, usually empty


def _text(data: Mapping[str, Any], name: str, pattern: re.Pattern[str] | None = None, optional: bool = False) -> str:
    value = data.get(name)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise bad_request("bad_field", f"字段 {name} 缺少或格式不对", f"field {name!r} is missing or malformed")
    return value


def parse_reply(data: Mapping[str, Any]) -> UplinkReply:
    when = data.get("time")
    if isinstance(when, bool) or not isinstance(when, int):
        raise bad_request("bad_field", "字段 time 缺少或格式不对", "field 'time' is missing or malformed")
    text = _text(data, "text")
    if len(text) > MAX_TEXT_CHARS:
        raise bad_request("text_too_long", f"回复内容过长（上限 {MAX_TEXT_CHARS} 字）",
                          f"reply text too long (limit {MAX_TEXT_CHARS} characters)")
    return UplinkReply(mobile=_text(data, "mobile", _DIGITS), nationcode=_text(data, "nationcode", _DIGITS),
                       text=text, sign=_text(data, "sign"), time=when, extend=_text(data, "extend", optional=True))
