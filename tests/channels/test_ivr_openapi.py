"""docs/ivr-openapi.yaml and the IVR channel agree, in process: the documented examples
are valid, every schema-valid request is accepted, every answer matches the response schema."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis_jsonschema import from_schema

from connectors.ivr.schema import parse_request, response_body
from connectors.render import render_voice
from connectors.voice.engine import CallState, VoiceEngine, VoiceEvent
from tests.channels.openapi_util import OpenApi

ROOT = Path(__file__).resolve().parents[2]
SPEC = OpenApi(ROOT / "docs" / "ivr-openapi.yaml")
PATH = "/webhooks/ivr/webhook"
REQUEST = SPEC.request_schema(PATH, "POST")
RESPONSE = SPEC.response_schema(PATH, "POST", 200)
ERROR = SPEC.response_schema(PATH, "POST", 400)


def test_spec_is_openapi_3_with_the_webhook() -> None:
    assert SPEC.spec["openapi"].startswith("3.0")
    operation = SPEC.operation(PATH, "POST")
    assert {"200", "400", "401", "404", "413"} <= set(operation["responses"])
    assert SPEC.spec["components"]["securitySchemes"]["ivrSignature"]["name"] == "X-IVR-Signature"


@pytest.mark.parametrize(
    "name", list(SPEC.operation(PATH, "POST")["requestBody"]["content"]["application/json"]["examples"]))
def test_request_examples_are_valid_and_accepted(name: str) -> None:
    example = SPEC.operation(PATH, "POST")["requestBody"]["content"]["application/json"]["examples"][name]["value"]
    jsonschema.Draft4Validator(REQUEST).validate(example)
    parse_request(json.dumps(example).encode())


@pytest.mark.parametrize("name", ["menu", "transfer"])
def test_response_examples_are_valid(name: str) -> None:
    example = SPEC.operation(PATH, "POST")["responses"]["200"]["content"]["application/json"]["examples"][name]
    jsonschema.Draft4Validator(RESPONSE).validate(example["value"])


def _no_trailing_newline(value: Any) -> bool:
    # JSON Schema patterns follow ECMA-262, where "$" does not match before a final
    # newline; Python's re (used to generate strings) does, so such strings are not valid.
    if isinstance(value, str):
        return not value.endswith("\n")
    if isinstance(value, dict):
        return all(_no_trailing_newline(v) for k, v in value.items() if k in ("call_id", "digits"))
    return True


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=from_schema(REQUEST))
def test_every_schema_valid_request_is_accepted(body: Any) -> None:
    assume(_no_trailing_newline(body))
    parsed = parse_request(json.dumps(body).encode())
    assert parsed.call_id == body["call_id"] and parsed.event.kind == body["event"]


@pytest.mark.parametrize(
    "messages",
    [
        [{"text": "您好", "buttons": [{"title": "查询进度", "payload": "/check_progress"}]}],
        [{"text": "请提供申请编号"}],
        [{"text": "正在转接"}, {"custom": {"type": "handoff", "queue": "complaint", "summary": "摘要"}}],
        [{"text": "再见", "utter_action": "utter_goodbye"}],
        [],
    ],
)
def test_every_answer_matches_the_response_schema(messages: Any) -> None:
    engine = VoiceEngine()
    for slot in (None, "application_id"):
        turn = engine.after_turn(render_voice(messages), CallState(started=True), slot)
        jsonschema.Draft4Validator(RESPONSE).validate(response_body("c-1", turn, "zh-CN"))
    state = CallState(started=True)
    events = (VoiceEvent("no_input"),) * 3 + (VoiceEvent("speech", text="嗯", confidence=0.1), VoiceEvent("hangup"))
    for event in events:
        step = engine.before_turn(event, state)
        if step.turn is not None:
            jsonschema.Draft4Validator(RESPONSE).validate(response_body("c-1", step.turn, "zh-CN"))


def test_errors_match_the_error_schema() -> None:
    from connectors.http import ChannelError

    with pytest.raises(ChannelError) as error:
        parse_request(b"{")
    body = {"error": {"code": error.value.code, "message": error.value.en, "message_zh": error.value.zh}}
    jsonschema.Draft4Validator(ERROR).validate(body)
