"""Telephone channels against a running Rasa server: Twilio (TwiML, X-Twilio-Signature) and
the JSON IVR webhook (X-IVR-Signature, OpenAPI conformance via hypothesis-jsonschema), whole calls
played by harness/calls.py (scripts/simulate_call.py), DTMF digit entry, hostile input."""
from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from connectors.ivr.signature import sign as ivr_sign
from harness import calls as simulate_call
from tests.channels.http_util import assert_clean_error, post, user_texts
from tests.channels.openapi_util import OpenApi

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

TWILIO_PATH = "/webhooks/twilio_zh/webhook"
IVR_PATH = "/webhooks/ivr/webhook"
ASCII_DIGIT = re.compile(r"[0-9]")


def twilio_post(stack, params: Dict[str, str], query: str = "", token: str = None) -> Any:
    url = f"{stack.rasa_url}{TWILIO_PATH}" + (f"?{query}" if query else "")
    signature = RequestValidator(token or stack.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    body = urllib.parse.urlencode(params).encode()
    return post(url, body, {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def ivr_post(stack, payload: Any, secret: str = None, raw: bytes = None, header: str = None) -> Any:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    signature = header if header is not None else ivr_sign(secret or stack.env["IVR_SHARED_SECRET"], body)
    return post(f"{stack.rasa_url}{IVR_PATH}", body, {"Content-Type": "application/json", "X-IVR-Signature": signature})


# --- Twilio -----------------------------------------------------------------------------
def test_twiml_is_valid_mandarin_gather(stack) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    reply = twilio_post(stack, {"CallSid": call_sid, "From": "+8613800001234", "CallStatus": "ringing"})
    assert reply.status == 200 and "xml" in reply.content_type
    root = ET.fromstring(reply.text)
    assert root.tag == "Response"
    gather = root.find("Gather")
    assert gather is not None and gather.get("input") == "dtmf speech"
    assert gather.get("language", "").startswith(("zh", "cmn"))
    assert gather.get("hints") and gather.get("action")
    says = gather.findall("Say")
    assert says and all(s.get("language", "").startswith(("zh", "cmn")) for s in says)
    spoken = "".join(s.text or "" for s in says)
    assert "请按" in spoken and not ASCII_DIGIT.search(spoken)
    assert not re.search(r"https?://|[\U0001F300-\U0001FAFF]", spoken)
    assert root.find("Redirect") is not None  # no input -> reprompt
    assert user_texts(stack, f"tel:{call_sid}") == ["/greet"]


def test_twilio_signature_is_required(stack) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    params = {"CallSid": call_sid, "From": "+8613800001234"}
    assert_clean_error(twilio_post(stack, params, token="wrong-token"))
    unsigned = post(f"{stack.rasa_url}{TWILIO_PATH}", urllib.parse.urlencode(params).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status == 403
    assert user_texts(stack, f"tel:{call_sid}") == []


def test_whole_twilio_call_with_dtmf_digit_entry(stack) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    exchanges = simulate_call.play_call(stack.rasa_url, simulate_call.default_steps("SQ202611200001", "1234"),
                                        channel="twilio", secret=stack.env["TWILIO_AUTH_TOKEN"], call_id=call_sid)
    assert exchanges[-1].action == "hangup", [e.prompts for e in exchanges]
    assert user_texts(stack, f"tel:{call_sid}")[:4] == ["/greet", "/check_progress", "SQ202611200001", "1234"]
    status = "".join(exchanges[3].prompts)  # the verified status, the application number read digit by digit
    assert "二零二六，幺幺二零，零零零幺" in status and not ASCII_DIGIT.search(status)
    assert exchanges[2].input.get("numDigits") == "4"  # the ID-digits prompt collects four keys
    assert ET.fromstring(exchanges[-1].raw).find("Hangup") is not None


def test_twilio_no_input_twice_then_transfer(stack) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    twilio_post(stack, {"CallSid": call_sid, "From": "+8613800001234"})
    for _ in range(2):
        root = ET.fromstring(twilio_post(stack, {"CallSid": call_sid}, "event=no_input").text)
        assert root.find("Gather") is not None and "没有听到" in "".join(s.text or "" for s in root.iter("Say"))
    root = ET.fromstring(twilio_post(stack, {"CallSid": call_sid}, "event=no_input").text)
    assert root.find("Dial").text == stack.env["TWILIO_AGENT_NUMBER"]


def test_twilio_handoff_dials_the_agents(stack) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    twilio_post(stack, {"CallSid": call_sid, "From": "+8613800001234"})
    root = ET.fromstring(twilio_post(stack, {"CallSid": call_sid, "Digits": "0"}, "event=gather").text)
    assert root.find("Dial") is not None and root.find("Dial").text == stack.env["TWILIO_AGENT_NUMBER"]


@pytest.mark.parametrize(
    "body",
    [b"", b"CallSid=", b"CallSid=a%20b", b"\xff\xfe\x00", b"%%%&&&==", b"CallSid=" + b"A" * 200],
)
def test_twilio_hostile_forms_get_4xx(stack, body: bytes) -> None:
    url = f"{stack.rasa_url}{TWILIO_PATH}"
    params = dict(urllib.parse.parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    signature = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    reply = post(url, body, {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert_clean_error(reply)


# --- JSON IVR ------------------------------------------------------------------------------
def test_ivr_signatures(stack) -> None:
    payload = {"call_id": f"c-{uuid.uuid4().hex[:12]}", "event": "call_start"}
    assert ivr_post(stack, payload).status == 200
    body = json.dumps(payload).encode()
    for header in ("", "t=1,sha256=" + "0" * 64, ivr_sign("wrong-secret", body),
                   ivr_sign(stack.env["IVR_SHARED_SECRET"], body, timestamp=int(time.time()) - 600)):
        reply = ivr_post(stack, None, raw=body, header=header)
        assert reply.status == 401
        assert_clean_error(reply)


def test_whole_ivr_call_with_x_keyed_as_star(stack) -> None:
    call_id = f"c-{uuid.uuid4().hex[:12]}"
    exchanges = simulate_call.play_call(stack.rasa_url, simulate_call.default_steps("SQ202604200005", "246X"),
                                        channel="ivr", secret=stack.env["IVR_SHARED_SECRET"], call_id=call_id)
    assert [e.action for e in exchanges] == ["continue"] * 4 + ["hangup"]
    greeting, menu_choice, app_digits = exchanges[0], exchanges[1], exchanges[2]
    assert "请按" in "".join(greeting.prompts)
    assert menu_choice.input["purpose"] == "digits:application_id" and menu_choice.input["dtmf"]["max_digits"] == 12
    assert app_digits.input["purpose"] == "digits:id_last4"
    assert user_texts(stack, f"ivr:{call_id}")[:4] == ["/greet", "/check_progress", "SQ202604200005", "246X"]
    assert "二零二六，零四二零，零零零五" in "".join(exchanges[3].prompts)  # verified: the status is read out
    for exchange in exchanges:
        for prompt in exchange.prompts:
            assert not ASCII_DIGIT.search(prompt) and "http" not in prompt


def test_ivr_low_confidence_asks_for_confirmation(stack) -> None:
    call_id = f"c-{uuid.uuid4().hex[:12]}"
    ivr_post(stack, {"call_id": call_id, "event": "call_start"})
    unsure = json.loads(ivr_post(stack, {"call_id": call_id, "event": "speech", "text": "你们的贷款利息多少",
                                         "confidence": 0.2}).text)
    assert unsure["input"]["purpose"] == "confirm" and "利息" in unsure["prompts"][0]["text"]
    assert user_texts(stack, f"ivr:{call_id}") == ["/greet"]
    confirmed = json.loads(ivr_post(stack, {"call_id": call_id, "event": "dtmf", "digits": "1"}).text)
    assert "年化" in "".join(p["text"] for p in confirmed["prompts"])
    assert user_texts(stack, f"ivr:{call_id}") == ["/greet", "你们的贷款利息多少"]


def test_ivr_hangup_and_transfer(stack) -> None:
    call_id = f"c-{uuid.uuid4().hex[:12]}"
    ivr_post(stack, {"call_id": call_id, "event": "call_start"})
    transfer = json.loads(ivr_post(stack, {"call_id": call_id, "event": "speech", "text": "我要转人工",
                                           "confidence": 0.95}).text)
    assert transfer["action"]["type"] == "transfer" and transfer["action"].get("queue")
    assert "input" not in transfer
    hangup = json.loads(ivr_post(stack, {"call_id": call_id, "event": "hangup"}).text)
    assert hangup["action"]["type"] == "hangup" and hangup["prompts"] == []


def test_ivr_conforms_to_its_openapi_description(stack) -> None:
    """Requests generated from the OpenAPI request schema, signed; every answer must have a
    documented status and match the documented response schema."""
    from hypothesis_jsonschema import from_schema

    spec = OpenApi(ROOT / "docs" / "ivr-openapi.yaml")
    seen: Dict[int, int] = {}

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=from_schema(spec.request_schema(IVR_PATH, "POST")))
    def check(body: Any) -> None:
        raw = json.dumps(body).encode()
        response = requests.post(f"{stack.rasa_url}{IVR_PATH}", data=raw, timeout=60, headers={
            "Content-Type": "application/json", "X-IVR-Signature": ivr_sign(stack.env["IVR_SHARED_SECRET"], raw)})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, response.text[:300]
        spec.check_response(IVR_PATH, "POST", response.status_code, response.headers.get("Content-Type", ""),
                            response.content)

    check()
    assert seen.get(200, 0) > 0, seen
    # refusals are documented too
    for raw, header in ((b"{}", ""), (b"{", None)):
        refused = requests.post(f"{stack.rasa_url}{IVR_PATH}", data=raw, timeout=30, headers={
            "X-IVR-Signature": header if header is not None else ivr_sign(stack.env["IVR_SHARED_SECRET"], raw)})
        spec.check_response(IVR_PATH, "POST", refused.status_code, refused.headers.get("Content-Type", ""),
                            refused.content)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=500),
        st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=30),
                      lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                      max_leaves=10).map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"call_id": st.text(max_size=10), "event": st.sampled_from(
            ["call_start", "speech", "dtmf", "no_input", "hangup", "?"])},
            optional={"text": st.text(max_size=20), "digits": st.text(max_size=5),
                      "confidence": st.one_of(st.floats(allow_nan=False), st.text(max_size=3))},
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_ivr_hostile_bodies_never_cause_5xx(stack, body: bytes) -> None:
    reply = ivr_post(stack, None, raw=body)
    assert reply.status < 500, reply.text[:300]
    if reply.status >= 400:
        assert_clean_error(reply)
        assert json.loads(reply.text)["error"]["message_zh"]


def test_ivr_huge_body_is_refused(stack) -> None:
    body = json.dumps({"call_id": "c1", "event": "speech", "text": "长" * 100000}).encode()
    reply = ivr_post(stack, None, raw=body)
    assert reply.status == 413
    assert_clean_error(reply)


def test_simulate_call_script_runs_end_to_end(stack) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "simulate_call.py"), "--url", stack.rasa_url,
         "--secret", stack.env["IVR_SHARED_SECRET"]],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "按键 2" in result.stdout and "挂机" in result.stdout
