"""WeChat channel against a running Rasa server (the ``stack`` fixture): URL verification,
signatures, 安全模式 round trip, retries, slow turns via the customer-service API,
handoff, hostile XML."""
from __future__ import annotations

import time
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.http_util import assert_clean_error, get, post, user_texts, user_turns
from tests.channels.wechat import sim as w

pytestmark = pytest.mark.slow


def send(base: str, request: w.SignedRequest):
    return post(request.url(base), request.body, {"Content-Type": "text/xml"})


def test_url_verification(stack) -> None:
    query, echostr = w.verification_query()
    reply = get(f"{stack.rasa_url}{w.PATH}?{urllib.parse.urlencode(query)}")
    assert (reply.status, reply.text) == (200, echostr)
    bad = get(f"{stack.rasa_url}{w.PATH}?{urllib.parse.urlencode({**query, 'signature': '0' * 40})}")
    assert bad.status == 403 and echostr not in bad.text


def test_bad_signature_gets_403_and_nothing_reaches_the_dialogue(stack) -> None:
    openid = w.new_openid()
    for request in (
        w.plain_request(w.text_xml(openid, "你好"), token="not-the-token"),
        w.safe_request(w.text_xml(openid, "你好"), token="not-the-token"),
    ):
        assert_clean_error(send(stack.rasa_url, request))
    unsigned = w.plain_request(w.text_xml(openid, "你好"))
    unsigned.query = {}
    assert send(stack.rasa_url, unsigned).status == 403
    tampered = w.safe_request(w.text_xml(openid, "你好"))
    tampered.query["msg_signature"] = "0" * 40
    assert send(stack.rasa_url, tampered).status == 403
    assert user_texts(stack, f"wx:{openid}") == []


def test_safe_mode_round_trip_answers_the_rate_question(stack) -> None:
    openid = w.new_openid()
    reply = send(stack.rasa_url, w.safe_request(w.text_xml(openid, "你们的贷款利息多少")))
    assert reply.status == 200 and "<Encrypt>" in reply.text and "年化" not in reply.text
    opened = w.open_reply(reply.text)
    assert opened["MsgType"] == "text" and opened["ToUserName"] == openid
    assert "年化" in opened["Content"] and len(opened["Content"].encode("utf-8")) <= 2048
    assert user_texts(stack, f"wx:{openid}") == ["你们的贷款利息多少"]


def test_three_identical_posts_make_one_user_turn(stack) -> None:
    openid, msg_id = w.new_openid(), w.new_msg_id()
    xml = w.text_xml(openid, "你好", msg_id=msg_id)
    replies = [send(stack.rasa_url, w.safe_request(xml)) for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    contents = [w.open_reply(r.text).get("Content") for r in replies]
    assert contents[0] and contents == [contents[0]] * 3
    assert len(user_turns(stack, f"wx:{openid}")) == 1


def test_retried_event_makes_one_turn(stack) -> None:
    openid, created = w.new_openid(), int(time.time())
    for _ in range(3):
        send(stack.rasa_url, w.plain_request(w.event_xml(openid, "CLICK", "ask_interest_rate", create_time=created)))
    assert user_texts(stack, f"wx:{openid}") == ["/ask_interest_rate"]


def test_slow_turn_answers_success_then_delivers_through_the_api(stack, start_stack) -> None:
    # deadline 0: every turn is "too slow" for a passive reply, deterministically
    slow = start_stack({"WECHAT_PASSIVE_DEADLINE_S": "0"})
    openid = w.new_openid()
    xml = w.text_xml(openid, "你们的贷款利息多少")
    first = send(slow.rasa_url, w.plain_request(xml))
    assert (first.status, first.text) == (200, "success")
    retry = send(slow.rasa_url, w.plain_request(xml))
    assert (retry.status, retry.text) == (200, "success")
    delivered = stack.wechat_api.wait_for_messages(openid, 1, timeout=60)
    assert delivered, "nothing arrived at the customer-service API stand-in"
    texts = [m["text"]["content"] for m in delivered]
    assert any("年化" in t for t in texts)
    assert all(m["msgtype"] == "text" and len(m["text"]["content"].encode("utf-8")) <= 2048 for m in delivered)
    assert stack.wechat_api.token_requests >= 1
    assert len(user_turns(slow, f"wx:{openid}")) == 1


def test_subscribe_welcome_menu_and_numbered_choice(stack) -> None:
    openid = w.new_openid()
    welcome = w.open_reply(send(stack.rasa_url, w.plain_request(w.event_xml(openid, "subscribe"))).text)
    assert "回复数字即可选择" in welcome["Content"]
    digit = next(line[1] for line in welcome["Content"].splitlines() if line.startswith("【") and "进度" in line)
    answer = w.open_reply(send(stack.rasa_url, w.plain_request(w.text_xml(openid, digit))).text)
    assert "申请编号" in answer["Content"]
    assert user_texts(stack, f"wx:{openid}")[-1] == "/check_progress"


def test_voice_message_uses_recognition(stack) -> None:
    openid = w.new_openid()
    understood = w.open_reply(send(stack.rasa_url, w.plain_request(w.voice_xml(openid, "你们的贷款利息多少"))).text)
    # a voice message is answered for the ear (issue 28): the privacy notice and the answer, one message each
    assert "核实身份" in understood["Content"]
    answer = stack.wechat_api.wait_for_messages(openid, 1, timeout=30)
    assert any("年化利率，按单利计算" in m["text"]["content"] for m in answer)
    silent = w.open_reply(send(stack.rasa_url, w.plain_request(w.voice_xml(openid, None))).text)
    assert "文字" in silent["Content"]
    assert user_texts(stack, f"wx:{openid}") == ["你们的贷款利息多少"]


def test_handoff_uses_transfer_customer_service(stack) -> None:
    openid = w.new_openid()
    reply = w.open_reply(send(stack.rasa_url, w.safe_request(w.text_xml(openid, "我要转人工"))).text)
    assert reply["MsgType"] == "transfer_customer_service"


def test_other_channels_cannot_reach_a_wechat_conversation(stack) -> None:
    openid = w.new_openid()
    send(stack.rasa_url, w.plain_request(w.text_xml(openid, "你好")))
    stack.rest(f"wx:{openid}", "你们的贷款利息多少")
    assert user_texts(stack, f"wx:{openid}") == ["你好"]
    assert user_texts(stack, f"rest:wx:{openid}") == ["你们的贷款利息多少"]


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<xml><ToUserName>a</ToUserName><FromUserName>oXXE</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>42</MsgId></xml>",
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<xml><Content>&b;</Content></xml>',
        "<xml><Content>unclosed",
        "{\"json\": true}",
        "<xml><FromUserName>o1</FromUserName></xml>",
        "\u0000\ufffd\U0001F600" * 50,
    ],
)
def test_hostile_xml_gets_400_without_a_trace(stack, body: str) -> None:
    reply = send(stack.rasa_url, w.plain_request(body))
    assert_clean_error(reply)
    assert reply.status == 400 and "root:" not in reply.text
    assert user_texts(stack, "wx:oXXE") == []


def test_huge_body_is_refused(stack) -> None:
    reply = send(stack.rasa_url, w.plain_request("<xml>" + "a" * (1024 * 1024) + "</xml>"))
    assert reply.status == 413
    assert_clean_error(reply)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000) | st.text(max_size=300).map(lambda t: f"<xml>{t}</xml>".encode()))
def test_random_bodies_never_cause_5xx(stack, body: bytes) -> None:
    request = w.plain_request("")
    request.body = body
    reply = send(stack.rasa_url, request)
    assert reply.status < 500, reply.text[:200]
    if reply.status >= 400:
        assert_clean_error(reply)
