"""Hostile input on the 微信客服 callback of the running assistant (shared ``stack``), with WeCom played
by a local stand-in (harness.wecom_api) that speaks WeCom's documented wire format.

Properties, for every generated request:
* never a 5xx, never a stack trace or server internals in the response;
* a forged or malformed callback is refused and pulls nothing;
* a correctly signed and encrypted callback with any event fields is answered cleanly;
* whatever a customer sends through WeCom is finished by the channel (answered, or recorded) and a text
  is in the conversation, personal data masked.

Short by default (the suite); ``FUZZ_EXAMPLES=500`` for a long run (``make fuzz``)."""
from __future__ import annotations

import os
import time
import urllib.parse
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from connectors.wecom_kf.ledger import FINISHED
from harness.http import Response, http
from harness.rasa import tracker_path

pytestmark = pytest.mark.slow

PATH = "/webhooks/wecom_kf/webhook"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck))
LEAKS = ("Traceback", 'File "/', "sanic.exceptions", "rasa.core", "sqlalchemy", "wechatpy")
HOSTILE = st.sampled_from([
    "' OR 1=1 --", "<script>alert(1)</script>", "]]><xml>", "{{7*7}}", "${jndi:ldap://x}", "/restart",
    "/greet{\"amount\": \"1\"}", "\u202e\u200b\ufeff", "😡" * 50, "SQ" + "9" * 60, "x" * 3000,
    "我的身份证110101199003071234，卡号6222020200112233445", "继续", "人工",
])
FIELD = st.one_of(st.text(max_size=40), st.sampled_from(["event", "kf_msg_or_event", "wkTEST0123456789", ""]))


def assert_clean(response: Response) -> None:
    assert response.status < 500, (response.status, response.text[:300])
    for leak in LEAKS:
        assert leak not in response.text, response.text[:300]


def enabled(stack: Any) -> bool:
    return http("GET", f"{stack.rasa_url}/webhooks/wecom_kf/").status == 200 and stack.wecom_api is not None


def post(stack: Any, query: dict, body: bytes) -> Response:
    return http("POST", f"{stack.rasa_url}{PATH}?{urllib.parse.urlencode(query)}", raw=body,
                headers={"Content-Type": "text/xml"})


@FUZZ
@given(body=st.one_of(st.binary(max_size=600), st.text(max_size=300).map(str.encode),
                      st.text(max_size=200).map(lambda t: f"<xml><Encrypt>{t}</Encrypt></xml>".encode())),
       query=st.dictionaries(st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr"]),
                             st.text(max_size=60), max_size=4))
def test_garbage_never_breaks_the_callback(stack: Any, body: bytes, query: dict) -> None:
    if not enabled(stack):
        pytest.skip("微信客服 channel not enabled")
    calls = stack.wecom_api.sync_calls
    assert_clean(post(stack, query, body))
    assert_clean(http("GET", f"{stack.rasa_url}{PATH}?{urllib.parse.urlencode(query)}"))
    assert stack.wecom_api.sync_calls == calls  # nothing refused ever pulls


@FUZZ
@given(msg_type=FIELD, event=FIELD, token=FIELD, open_kfid=FIELD, extra=st.text(max_size=200))
def test_any_signed_event_is_answered_cleanly(stack: Any, msg_type: str, event: str, token: str, open_kfid: str,
                                              extra: str) -> None:
    if not enabled(stack):
        pytest.skip("微信客服 channel not enabled")

    def cdata(value: str) -> str:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    clean = {k: "".join(c for c in v if c.isprintable()) for k, v in
             {"m": msg_type, "e": event, "t": token, "o": open_kfid, "x": extra}.items()}
    inner = (f"<xml><ToUserName>{cdata(stack.wecom_api.corp_id)}</ToUserName><MsgType>{cdata(clean['m'])}</MsgType>"
             f"<Event>{cdata(clean['e'])}</Event><Token>{cdata(clean['t'])}</Token>"
             f"<OpenKfId>{cdata(clean['o'])}</OpenKfId><Extra>{cdata(clean['x'])}</Extra></xml>")
    query, body = stack.wecom_api.seal(inner)
    response = post(stack, query, body)
    assert_clean(response)
    assert response.status in (200, 400), response.text[:200]


def test_whatever_a_customer_sends_is_finished_and_recorded(stack: Any) -> None:
    if not enabled(stack):
        pytest.skip("微信客服 channel not enabled")
    api = stack.wecom_api
    user = "wmFZ" + uuid.uuid4().hex[:20]
    sent: list = []

    @FUZZ
    @given(content=st.one_of(HOSTILE, st.text(max_size=200)), kind=st.sampled_from(["text", "text", "image", "voice"]))
    def check(content: str, kind: str) -> None:
        msgid = api.customer_sends(user, content) if kind == "text" else api.customer_sends(user, msgtype=kind)
        assert_clean(api.notify(stack.rasa_url + PATH))
        engine = create_engine(stack.db_url())
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    row = conn.execute(text("SELECT status FROM wecom_kf_inbox WHERE msgid = :m"),
                                       {"m": msgid}).first()
                if row and row[0] in FINISHED:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("a customer's message was never finished")
        finally:
            engine.dispose()
        # "human": an earlier message was handed to a colleague (two misunderstandings in a row, an insult...)
        # who now holds the session; the message is kept for them and the assistant stays silent
        assert row[0] in ("done", "skipped", "human"), row
        if kind == "text" and content.strip() and row[0] != "human":
            sent.append(content)

    check()
    tracker = http("GET", f"{stack.rasa_url}{tracker_path('kf:' + user)}?token=test-rasa-token").json()
    turns = [e for e in tracker.get("events", []) if e.get("event") == "user"]
    assert "110101199003071234" not in str(turns)  # masked at rest
    # "继续" may send a held remainder instead of making a turn; every other text is a turn
    assert len(turns) >= len([c for c in sent if c.strip() not in ("继续",)]) * 0.9, (len(turns), len(sent))
