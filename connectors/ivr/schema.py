"""IVR request validation and response shape (kept in step with docs/ivr-openapi.yaml)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List
from xml.sax.saxutils import escape

from connectors import ids
from connectors.http import bad_request, parse_json_object
from connectors.voice.engine import VoiceEvent, VoiceTurn

EVENTS = ("call_start", "speech", "dtmf", "no_input", "hangup")
MAX_TEXT = 2000
MAX_DIGITS = 32
DIGITS_ALPHABET = set("0123456789*#")


@dataclass
class IvrRequest:
    call_id: str
    event: VoiceEvent
    caller: str | None = None
    called: str | None = None


def _string(data: Dict[str, Any], name: str, max_length: int, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise bad_request("missing_field", f"缺少字段 {name}", f"missing field '{name}'")
        return None
    if not isinstance(value, str):
        raise bad_request("wrong_type", f"字段 {name} 应为字符串", f"field '{name}' must be a string")
    if len(value) > max_length:
        raise bad_request("too_long", f"字段 {name} 过长（上限 {max_length}）",
                          f"field '{name}' longer than {max_length}")
    return value


def parse_request(body: bytes) -> IvrRequest:
    data = parse_json_object(body)
    call_id = _string(data, "call_id", ids.MAX_RAW_ID_LENGTH, required=True) or ""
    if not ids.is_valid_raw_id(call_id):
        raise bad_request("bad_call_id", "call_id 只能包含字母、数字和 _-.:@+=",
                          "call_id has characters outside [A-Za-z0-9_-.:@+=]")
    event = _string(data, "event", 16, required=True)
    if event not in EVENTS:
        raise bad_request("bad_event", f"event 应为 {'/'.join(EVENTS)} 之一",
                          f"event must be one of {', '.join(EVENTS)}")
    caller = _string(data, "caller", 64)
    called = _string(data, "called", 64)
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise bad_request("wrong_type", "metadata 应为对象", "metadata must be an object")
    if event == "speech":
        text = _string(data, "text", MAX_TEXT, required=True) or ""
        confidence = data.get("confidence")
        if confidence is not None:
            if (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                    or not math.isfinite(confidence)):
                raise bad_request("wrong_type", "confidence 应为 0 到 1 之间的数字", "confidence must be a number 0..1")
            if not 0.0 <= float(confidence) <= 1.0:
                raise bad_request("out_of_range", "confidence 应在 0 到 1 之间", "confidence must be between 0 and 1")
            confidence = float(confidence)
        return IvrRequest(call_id, VoiceEvent("speech", text=text, confidence=confidence), caller, called)
    if event == "dtmf":
        digits = _string(data, "digits", MAX_DIGITS, required=True) or ""
        if not digits or not set(digits) <= DIGITS_ALPHABET:
            raise bad_request("bad_digits", "digits 只能包含 0-9、* 和 #", "digits may only contain 0-9, * and #")
        return IvrRequest(call_id, VoiceEvent("dtmf", digits=digits), caller, called)
    return IvrRequest(call_id, VoiceEvent(event), caller, called)


def ssml(text: str, language: str) -> str:
    return f'<speak xml:lang="{escape(language)}">{escape(text)}</speak>'


def response_body(call_id: str, turn: VoiceTurn, language: str) -> Dict[str, Any]:
    prompts: List[Dict[str, str]] = [{"text": p, "ssml": ssml(p, language)} for p in turn.prompts if p]
    action: Dict[str, Any] = {"type": turn.action.type}
    for key in ("queue", "summary", "reason"):
        value = getattr(turn.action, key)
        if value:
            action[key] = value
    body: Dict[str, Any] = {"call_id": call_id, "prompts": prompts, "action": action}
    if turn.action.type == "continue" and turn.input is not None:
        spec = turn.input
        dtmf: Dict[str, Any] = {"min_digits": spec.min_digits, "terminator": spec.terminator}
        if spec.max_digits:
            dtmf["max_digits"] = spec.max_digits
        body["input"] = {
            "modes": [m for m in ("speech", "dtmf") if m in spec.modes],
            "purpose": spec.purpose,
            "timeout_ms": int(spec.timeout_s * 1000),
            "barge_in": spec.barge_in,
            "dtmf": dtmf,
            "speech": {"language": language, "hints": list(spec.hints)},
        }
    return body
