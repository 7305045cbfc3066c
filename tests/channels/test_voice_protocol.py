"""Telephone channels in process: the shared call engine (DTMF menu, digit entry,
confirmation of low-confidence speech, no-input handling), TwiML, Twilio signatures,
the IVR signature scheme and request validation."""
from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from connectors.http import ChannelError
from connectors.ivr import signature as ivr_signature
from connectors.ivr.config import IvrSettings
from connectors.ivr.schema import parse_request, response_body, ssml
from connectors.render import render_voice
from connectors.state import StateStore
from connectors.twilio_zh.channel import event_from_request
from connectors.twilio_zh.config import TwilioSettings
from connectors.twilio_zh.signature import check_twilio_signature
from connectors.twilio_zh.twiml import render_twiml
from connectors.voice.calls import CallRunner
from connectors.voice.engine import CallState, VoiceEngine, VoiceEvent, normalize_digits

GREETING = [{"text": "您好，我是信贷智能客服。"}]


def engine() -> VoiceEngine:
    return VoiceEngine(min_confidence=0.5, max_reprompts=2)


# --- engine -----------------------------------------------------------------------------
def test_call_start_greets_and_reads_the_main_menu() -> None:
    state = CallState()
    step = engine().before_turn(VoiceEvent("call_start"), state)
    assert step.text == "/greet" and step.call_start
    turn = engine().after_turn(render_voice(GREETING), state, None, call_start=True)
    spoken = "".join(turn.prompts)
    assert "利率与费用请按一" in spoken and "申请进度请按二" in spoken and "人工客服请按零" in spoken
    assert turn.action.type == "continue" and turn.input.max_digits == 1


@pytest.mark.parametrize(
    ("digit", "payload"),
    [("1", "/ask_interest_rate"), ("2", "/check_progress"), ("3", "/ask_repayment"), ("4", "/complain"),
     ("0", "/request_human")],
)
def test_main_menu_digits(digit: str, payload: str) -> None:
    assert engine().before_turn(VoiceEvent("dtmf", digits=digit), CallState(started=True)).text == payload


def test_digits_while_the_form_asks_for_a_number() -> None:
    state = CallState(started=True, expect="application_id")
    assert engine().before_turn(VoiceEvent("dtmf", digits="202611200001"), state).text == "SQ202611200001"
    state = CallState(started=True, expect="id_last4")
    assert engine().before_turn(VoiceEvent("dtmf", digits="246*"), state).text == "246X"
    assert engine().before_turn(VoiceEvent("dtmf", digits="1234#"), state).text == "1234"
    assert engine().before_turn(VoiceEvent("dtmf", digits="0"), state).text == "/request_human"
    assert normalize_digits("202611200001") == "SQ202611200001"
    assert normalize_digits("123456", "otp_code") == "123456"


def test_form_prompt_asks_for_keyed_digits() -> None:
    state = CallState(started=True)
    turn = engine().after_turn(render_voice([{"text": "请提供您的申请编号。"}]), state, "application_id")
    assert state.expect == "application_id"
    assert turn.input.max_digits == 12 and turn.input.purpose == "digits:application_id"
    assert "十二位数字" in turn.prompts[-1]


def test_low_confidence_speech_is_confirmed_first() -> None:
    state = CallState(started=True)
    step = engine().before_turn(VoiceEvent("speech", text="查询进度", confidence=0.3), state)
    assert step.text is None and "查询进度" in step.turn.prompts[0] and step.turn.input.purpose == "confirm"
    assert engine().before_turn(VoiceEvent("dtmf", digits="1"), state).text == "查询进度"
    engine().before_turn(VoiceEvent("speech", text="还款", confidence=0.2), state)
    assert engine().before_turn(VoiceEvent("speech", text="对", confidence=0.9), state).text == "还款"
    engine().before_turn(VoiceEvent("speech", text="还款", confidence=0.2), state)
    again = engine().before_turn(VoiceEvent("dtmf", digits="2"), state)
    assert again.text is None and "再说一遍" in again.turn.prompts[0]
    assert engine().before_turn(VoiceEvent("speech", text="利率", confidence=0.8), state).text == "利率"


def test_no_input_reprompts_twice_then_transfers() -> None:
    state = CallState(started=True, last_prompts=["请问有什么可以帮您？"])
    first = engine().before_turn(VoiceEvent("no_input"), state).turn
    second = engine().before_turn(VoiceEvent("no_input"), state).turn
    third = engine().before_turn(VoiceEvent("no_input"), state).turn
    assert first.action.type == second.action.type == "continue"
    assert "没有听到" in first.prompts[0] and first.prompts[1] == "请问有什么可以帮您？"
    assert third.action.type == "transfer" and third.action.reason == "no_input"
    state.no_input = 1
    engine().before_turn(VoiceEvent("dtmf", digits="3"), state)
    assert state.no_input == 0


def test_handoff_transfers_and_goodbye_hangs_up() -> None:
    handoff = render_voice([{"text": "正在转接"},
                            {"custom": {"type": "handoff", "queue": "complaint", "summary": "摘要"}}])
    turn = engine().after_turn(handoff, CallState(started=True))
    assert (turn.action.type, turn.action.queue, turn.action.summary) == ("transfer", "complaint", "摘要")
    bye = engine().after_turn(render_voice([{"text": "再见！", "utter_action": "utter_goodbye"}]), CallState())
    assert bye.action.type == "hangup" and bye.input is None


def test_call_runner_keeps_state_between_events(tmp_path: Any) -> None:
    store = StateStore(str(tmp_path / "state.db"))
    runner = CallRunner("ivr", "ivr", engine(), store)
    seen: List[str] = []

    async def dialogue(message: Any) -> None:
        seen.append(message.text)
        assert message.sender_id == "ivr:call-1"
        await message.output_channel.send_response(message.sender_id, {"text": "请输入申请编号"})

    async def slot(_: str) -> Optional[str]:
        return "application_id"

    async def scenario() -> None:
        await runner.handle("call-1", VoiceEvent("call_start"), dialogue, slot)
        await runner.handle("call-1", VoiceEvent("dtmf", digits="202611200001"), dialogue, slot)
        turn = await runner.handle("call-1", VoiceEvent("hangup"), dialogue, slot)
        assert turn.action.type == "hangup"

    asyncio.run(scenario())
    assert seen == ["/greet", "SQ202611200001"]
    assert store.get("call:ivr:call-1") is None


# --- Twilio -------------------------------------------------------------------------------
@dataclass
class FakeRequest:
    method: str = "POST"
    path: str = "/webhooks/twilio_zh/webhook"
    query_string: str = ""
    form: Dict[str, str] = field(default_factory=dict)
    headers: Dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1:5005"

    @property
    def args(self) -> Dict[str, str]:
        return dict(p.split("=", 1) for p in self.query_string.split("&") if "=" in p)

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.path}" + (f"?{self.query_string}" if self.query_string else "")


TWILIO = TwilioSettings(auth_token="test-twilio-token", agent_number="+8640082088200")


def signed(form: Dict[str, str], query: str = "", public: Optional[str] = None) -> FakeRequest:
    request = FakeRequest(query_string=query, form=form)
    url = (public + request.path + (f"?{query}" if query else "")) if public else request.url
    request.headers["X-Twilio-Signature"] = RequestValidator(TWILIO.auth_token).compute_signature(url, form)
    return request


def test_twilio_signature_good_bad_and_public_base_url() -> None:
    form = {"CallSid": "CA123", "From": "+8613800001234", "Digits": "2"}
    check_twilio_signature(signed(form), TWILIO.auth_token, None)
    public = "https://bot.example.com"
    check_twilio_signature(signed(form, "event=gather", public), TWILIO.auth_token, public)
    tampered = signed(form)
    tampered.form["Digits"] = "9"
    with pytest.raises(ChannelError) as error:
        check_twilio_signature(tampered, TWILIO.auth_token, None)
    assert error.value.status == 403
    with pytest.raises(ChannelError):
        check_twilio_signature(FakeRequest(form=form), TWILIO.auth_token, None)
    with pytest.raises(ChannelError):  # signed for another URL
        check_twilio_signature(signed(form, "", "https://other.example.com"), TWILIO.auth_token, public)


def test_twilio_events_from_form_fields() -> None:
    assert event_from_request(FakeRequest(form={"CallSid": "CA1"})).kind == "call_start"
    assert event_from_request(FakeRequest(form={"Digits": "12"}, query_string="event=gather")).digits == "12"
    speech = event_from_request(FakeRequest(form={"SpeechResult": "查询进度", "Confidence": "0.42"}))
    assert (speech.kind, speech.text, speech.confidence) == ("speech", "查询进度", 0.42)
    assert event_from_request(FakeRequest(form={"SpeechResult": "x", "Confidence": "nan?"})).confidence is None
    assert event_from_request(FakeRequest(form={}, query_string="event=no_input")).kind == "no_input"
    assert event_from_request(FakeRequest(form={"CallStatus": "completed"})).kind == "hangup"


def _twiml(turn: Any) -> ET.Element:
    xml = render_twiml(turn, TWILIO, lambda event: f"/webhooks/twilio_zh/webhook?event={event}")
    return ET.fromstring(xml)


def test_twiml_gathers_mandarin_speech_and_keys() -> None:
    state = CallState(started=True)
    root = _twiml(engine().after_turn(render_voice(GREETING), state, None, call_start=True))
    assert root.tag == "Response"
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "zh-CN"
    assert gather.get("numDigits") == "1" and gather.get("action").endswith("event=gather")
    assert "利率" in gather.get("hints")
    says = gather.findall("Say")
    assert says and all(s.get("language") == "cmn-CN" and s.get("voice") == "Polly.Zhiyu" for s in says)
    assert root.find("Redirect").text.endswith("event=no_input")


def test_twiml_dial_on_handoff_and_hangup_after_goodbye() -> None:
    handoff = engine().after_turn(render_voice([{"custom": {"type": "handoff", "queue": "general"}}]), CallState())
    root = _twiml(handoff)
    assert root.find("Dial").text == "+8640082088200" and root.find("Gather") is None
    bye = _twiml(engine().after_turn(render_voice([{"text": "再见", "utter_action": "utter_goodbye"}]), CallState()))
    assert [child.tag for child in bye] == ["Say", "Hangup"]


def test_twilio_settings_from_env() -> None:
    assert TwilioSettings.from_env({}) is None
    configured = TwilioSettings.from_env(
        {"TWILIO_AUTH_TOKEN": "t", "TWILIO_LANGUAGE": "cmn-Hans-CN", "PUBLIC_BASE_URL": "https://x.cn/"}
    )
    assert configured.speech_language == "cmn-Hans-CN" and configured.public_base_url == "https://x.cn"


# --- IVR ----------------------------------------------------------------------------------
SECRET = "test-ivr-secret"


def test_ivr_signature_scheme() -> None:
    body = b'{"call_id":"c1","event":"call_start"}'
    header = ivr_signature.sign(SECRET, body)
    ivr_signature.verify(SECRET, header, body)
    t = int(time.time())
    for bad in (
        None,
        "",
        "garbage",
        f"t={t},sha256=" + "0" * 64,
        ivr_signature.sign("other-secret", body),
        ivr_signature.sign(SECRET, body, timestamp=t - 301),
        ivr_signature.sign(SECRET, body, timestamp=t + 301),
        ivr_signature.sign(SECRET, body + b" "),
        f"t=１２３,sha256={'0' * 64}",
    ):
        with pytest.raises(ChannelError) as error:
            ivr_signature.verify(SECRET, bad, body)
        assert error.value.status == 401
    ivr_signature.verify(SECRET, ivr_signature.sign(SECRET, body, timestamp=t - 299), body)


def test_ivr_settings_from_env() -> None:
    assert IvrSettings.from_env({}) is None
    assert IvrSettings.from_env({"IVR_SHARED_SECRET": "s"}).tolerance_s == 300


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b"[]", "wrong_type"),
        (b'{"event": "call_start"}', "missing_field"),
        (b'{"call_id": 5, "event": "call_start"}', "wrong_type"),
        (b'{"call_id": "a b", "event": "call_start"}', "bad_call_id"),
        (b'{"call_id": "c1", "event": "dance"}', "bad_event"),
        (b'{"call_id": "c1", "event": "speech"}', "missing_field"),
        (b'{"call_id": "c1", "event": "speech", "text": "x", "confidence": 2}', "out_of_range"),
        (b'{"call_id": "c1", "event": "speech", "text": "x", "confidence": true}', "wrong_type"),
        (b'{"call_id": "c1", "event": "dtmf", "digits": "12a"}', "bad_digits"),
        (b'{"call_id": "c1", "event": "dtmf", "digits": ""}', "bad_digits"),
        (b'{"call_id": "c1", "event": "call_start", "metadata": []}', "wrong_type"),
        (b"[" * 100000, "malformed_json"),
    ],
)
def test_ivr_requests_are_validated(body: bytes, code: str) -> None:
    with pytest.raises(ChannelError) as error:
        parse_request(body)
    assert error.value.status == 400 and error.value.code == code


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: (st.lists(children, max_size=4)
                              | st.dictionaries(st.text(max_size=10), children, max_size=5)),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {"call_id": st.text(max_size=20),
             "event": st.sampled_from(["call_start", "speech", "dtmf", "no_input", "hangup", "x"])},
            optional={"text": st.text(max_size=50), "digits": st.text(max_size=10), "confidence": st.floats()},
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_ivr_parse_only_accepts_or_refuses_with_400(body: bytes) -> None:
    try:
        parse_request(body)
    except ChannelError as error:
        assert error.status == 400


def test_ivr_response_shape() -> None:
    turn = engine().after_turn(render_voice(GREETING), CallState(started=True), None, call_start=True)
    body = response_body("c1", turn, "zh-CN")
    assert body["action"] == {"type": "continue"}
    assert body["prompts"][0]["ssml"].startswith('<speak xml:lang="zh-CN">')
    assert body["input"]["dtmf"] == {"min_digits": 1, "terminator": "#", "max_digits": 1}
    assert body["input"]["modes"] == ["speech", "dtmf"] and body["input"]["barge_in"] is True
    assert ssml("a<b&c", "zh-CN") == '<speak xml:lang="zh-CN">a&lt;b&amp;c</speak>'
