"""Hostile input on every HTTP entry point of the running assistant (shared `stack`):
REST, WeChat, the JSON IVR webhook, Twilio, and Rasa's own HTTP API.

Properties, for every generated request:
* never a 5xx, never a stack trace or server internals in the response;
* a message the channel accepted is answered (never silence) and is in the tracker
  store afterwards, personal data masked (nothing lost);
* a request the channel refused leaves no trace in the conversation.

Short by default (the suite); ``FUZZ_EXAMPLES=500`` for a long run.  The REST channel is
also fuzzed from an OpenAPI description with schemathesis (``tests/fuzz/rest-openapi.yaml``);
the IVR webhook's OpenAPI conformance is checked by ``tests/channels``.
"""
from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import json
import os
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit.text.masking import mask_pii
from harness.http import Response, http
from harness.rasa import conversation_id, tracker_path

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=list(HealthCheck))
LEAKS = ("Traceback", 'File "/', "sanic.exceptions", "rasa.core", "psycopg2", "sqlalchemy")

# Text a customer (or an attacker) might send.
HOSTILE = st.sampled_from([
    "' OR 1=1 --", "<script>alert(1)</script>", "]]><xml>", "{{7*7}}", "${jndi:ldap://x}", "%s%n%x",
    "/restart", "/session_start", "/greet{\"amount\": \"1\"}", "/nlu_fallback", "/ask_interest_rate{",
    "\u202e\u200b\ufeff", "\x00\x01\x1b[31m", "😡" * 50, "SQ" + "9" * 60, "１３８１２３４５６７８",
    "我的身份证110101199003071234，卡号6222020200112233445", "验证码 123456", "x" * 3000,
])
MESSAGE = st.one_of(HOSTILE, st.text(max_size=200), st.text(alphabet="0123456789SQX-+ ", max_size=40))
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


def assert_clean(response: Response) -> None:
    assert response.status < 500, (response.status, response.text[:300])
    for leak in LEAKS:
        assert leak not in response.text, response.text[:300]


def user_texts(stack: Any, conversation: str) -> List[str]:
    tracker = http("GET", f"{stack.rasa_url}{tracker_path(conversation)}?token=test-rasa-token"
                          f"&include_events=ALL").json()
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def channel_enabled(stack: Any, path: str) -> bool:
    return http("GET", f"{stack.rasa_url}{path.rsplit('/', 1)[0]}/").status == 200


# --------------------------------------------------------------------------- REST


def test_rest_accepted_messages_are_answered_and_never_lost(stack: Any) -> None:
    accepted: List[str] = []

    @FUZZ
    @given(message=MESSAGE, metadata=st.one_of(st.none(), st.dictionaries(st.text(max_size=8), JSON_VALUE,
                                                                            max_size=3)))
    def check(message: str, metadata: Any) -> None:
        sender = f"fz-{uuid.uuid4().hex[:12]}"
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        response = http("POST", f"{stack.rasa_url}/webhooks/rest/webhook", body)
        assert_clean(response)
        if response.status != 200:
            assert user_texts(stack, conversation_id(sender)) == [], "a refused request leaves no turn"
            return
        messages = response.json()
        assert isinstance(messages, list) and any(m.get("text") or m.get("custom") or m.get("buttons")
                                                  for m in messages), "never silence"
        accepted.append(message)
        stored = user_texts(stack, conversation_id(sender))
        assert len(stored) == 1, "the accepted turn is in the tracker store"
        assert (stored[0] or "") == mask_pii(message.strip())  # Rasa strips the text; PII masked at rest

    check()
    assert accepted, "the REST channel accepted none of the generated messages"


@FUZZ
@given(raw=st.one_of(
    st.binary(max_size=300),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"sender": JSON_VALUE, "message": JSON_VALUE, "metadata": JSON_VALUE,
                                        "input_channel": JSON_VALUE}).map(lambda v: json.dumps(v).encode()),
    st.just(b'{"sender": "x", "message": "' + b"A" * 70000 + b'"}'),
    st.just(b"[" * 5000 + b"]" * 5000),
), content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_rest_malformed_bodies_never_break_the_server(stack: Any, raw: bytes, content_type: str) -> None:
    response = http("POST", f"{stack.rasa_url}/webhooks/rest/webhook", raw=raw,
                    headers={"Content-Type": content_type} if content_type else {})
    assert_clean(response)


def test_rest_schemathesis_from_openapi(stack: Any) -> None:
    import werkzeug

    # schemathesis 3.14 reads werkzeug.__version__, which Werkzeug 3 no longer has
    if not hasattr(werkzeug, "__version__"):
        werkzeug.__version__ = importlib.metadata.version("werkzeug")  # type: ignore[attr-defined]
    import requests

    try:
        import schemathesis
    except ImportError:
        # not pinned: no schemathesis release fits Rasa 3.6's jsonschema/attrs pins and pytest 8 without
        # disabling its plugin; REST is fuzzed with hypothesis above and the IVR OpenAPI file with
        # hypothesis-jsonschema (tests/channels/test_ivr_openapi.py)
        pytest.skip("schemathesis is not installed (pip install schemathesis==3.14.2; pytest -p no:schemathesis)")

    schema = schemathesis.from_path(str(HERE / "rest-openapi.yaml"), base_url=stack.rasa_url)
    operation = schema["/webhooks/rest/webhook"]["POST"]
    statuses: Dict[int, int] = {}

    @FUZZ
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        kwargs = case.as_requests_kwargs(base_url=stack.rasa_url)
        response = requests.request(**kwargs, timeout=60)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, response.text[:300]
        assert not any(leak in response.text for leak in LEAKS)
        if response.status_code == 200:
            assert response.json(), "never silence"

    check()
    assert statuses.get(200), statuses


# --------------------------------------------------------------------------- WeChat

WECHAT_PATH = "/webhooks/wechat/webhook"


def _wechat_signed(token: str, body: bytes) -> Dict[str, str]:
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": ts, "nonce": nonce}


def _wechat_text(openid: str, content: str) -> bytes:
    safe = content.replace("]]>", "]]]]><![CDATA[>")
    return ("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{safe}]]></Content>"
            f"<MsgId>{uuid.uuid4().int % 10**18 + 10**18}</MsgId></xml>").encode("utf-8")


def test_wechat_signed_hostile_text_is_answered_and_recorded(stack: Any) -> None:
    if not channel_enabled(stack, WECHAT_PATH):
        pytest.skip("WeChat channel not enabled in credentials.yml")
    openid = "o" + uuid.uuid4().hex[:27]
    accepted: List[str] = []

    @FUZZ
    @given(content=MESSAGE.filter(lambda t: "\x00" not in t and t.strip() != ""))
    def check(content: str) -> None:
        body = _wechat_text(openid, content)
        query = urllib.parse.urlencode(_wechat_signed(stack.env["WECHAT_TOKEN"], body))
        response = http("POST", f"{stack.rasa_url}{WECHAT_PATH}?{query}", raw=body,
                        headers={"Content-Type": "text/xml"})
        assert_clean(response)
        if response.status == 200:
            assert response.text.strip(), "WeChat needs a reply body ('success' or XML)"
            accepted.append(content)

    check()
    texts = user_texts(stack, f"wx:{openid}")
    # XML normalises line ends and the channel may trim; every accepted message left one user turn
    assert len(texts) >= len([c for c in accepted if c.strip()]) * 0.9, (len(texts), len(accepted))


@FUZZ
@given(body=st.one_of(st.binary(max_size=400), st.text(max_size=300).map(str.encode),
                      st.just(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                              b"<xml><Content>&b;</Content></xml>"),
                      st.just(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>')),
       signed=st.booleans())
def test_wechat_garbage_never_breaks_the_server(stack: Any, body: bytes, signed: bool) -> None:
    if not channel_enabled(stack, WECHAT_PATH):
        pytest.skip("WeChat channel not enabled in credentials.yml")
    query = urllib.parse.urlencode(_wechat_signed(stack.env["WECHAT_TOKEN"], body) if signed else
                                   {"signature": "0" * 40, "timestamp": "1", "nonce": "n"})
    response = http("POST", f"{stack.rasa_url}{WECHAT_PATH}?{query}", raw=body,
                    headers={"Content-Type": "text/xml"})
    assert_clean(response)
    assert "root:" not in response.text  # no external entity expansion


# --------------------------------------------------------------------------- IVR

IVR_PATH = "/webhooks/ivr/webhook"


def _ivr_headers(secret: str, body: bytes) -> Dict[str, str]:
    t = str(int(time.time()))
    digest = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-IVR-Signature": f"t={t},sha256={digest}"}


@FUZZ
@given(event=st.fixed_dictionaries(
    {"call_id": st.one_of(st.text(max_size=20), st.just("c-fuzz"), JSON_VALUE),
     "event": st.sampled_from(["call_start", "speech", "dtmf", "no_input", "hangup", "bogus", ""])},
    optional={"text": st.one_of(MESSAGE, JSON_VALUE), "digits": st.one_of(st.text(max_size=30), JSON_VALUE),
              "confidence": st.one_of(st.floats(), st.text(max_size=5), JSON_VALUE),
              "caller": st.text(max_size=30), "extra": JSON_VALUE}))
def test_ivr_signed_hostile_events_never_break_the_server(stack: Any, event: Dict[str, Any]) -> None:
    if not channel_enabled(stack, IVR_PATH):
        pytest.skip("IVR channel not enabled in credentials.yml")
    body = json.dumps(event, ensure_ascii=False).encode()
    response = http("POST", f"{stack.rasa_url}{IVR_PATH}", raw=body,
                    headers=_ivr_headers(stack.env["IVR_SHARED_SECRET"], body))
    assert_clean(response)


# --------------------------------------------------------------------------- Twilio

TWILIO_PATH = "/webhooks/twilio_zh/webhook"


@FUZZ
@given(params=st.fixed_dictionaries(
    {"CallSid": st.one_of(st.just("CA" + "0" * 32), st.text(max_size=40))},
    optional={"SpeechResult": MESSAGE, "Digits": st.text(max_size=30), "Confidence": st.text(max_size=8),
              "From": st.text(max_size=20), "CallStatus": st.text(max_size=12)}),
    event=st.sampled_from(["", "gather", "status", "x" * 50]), signed=st.booleans())
def test_twilio_hostile_forms_never_break_the_server(stack: Any, params: Dict[str, str], event: str,
                                                     signed: bool) -> None:
    if not channel_enabled(stack, TWILIO_PATH):
        pytest.skip("Twilio channel not enabled in credentials.yml")
    from twilio.request_validator import RequestValidator

    params = {k: v.replace("\x00", "") for k, v in params.items()}
    url = f"{stack.rasa_url}{TWILIO_PATH}" + (f"?event={urllib.parse.quote(event)}" if event else "")
    signature = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, params) if signed else "bad"
    response = http("POST", url, raw=urllib.parse.urlencode(params).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "X-Twilio-Signature": signature})
    assert_clean(response)
    if not signed:
        assert response.status in (401, 403)


# --------------------------------------------------------------------------- Rasa HTTP API


@FUZZ
@given(path=st.sampled_from(["/conversations/x/tracker", "/conversations/x/messages", "/model/parse",
                             "/conversations/x/trigger_intent", "/model", "/status", "/domain"]),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       token=st.one_of(st.none(), st.text(max_size=20)), body=JSON_VALUE)
def test_api_without_the_token_is_refused_cleanly(stack: Any, path: str, method: str, token: Any,
                                                  body: Any) -> None:
    query = f"?token={urllib.parse.quote(token)}" if token is not None and token != "test-rasa-token" else ""
    response = http(method, f"{stack.rasa_url}{path}{query}", body=body)
    assert_clean(response)
    assert response.status in (401, 403, 404, 405), (path, method, response.status)
