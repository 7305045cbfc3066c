"""WeChat channel protocol, in process (no Rasa server): signatures, 安全模式, hostile XML,
message parsing, retry de-duplication, passive vs. customer-service API delivery."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.http import ChannelError
from connectors.state import StateStore
from connectors.wechat.config import WeChatSettings, valid_aes_key
from connectors.wechat.crypto import WeChatSecurity
from connectors.wechat.parse import ensure_safe_xml, parse_inbound
from connectors.wechat.service import VOICE_NOT_UNDERSTOOD, WeChatService
from harness.wechat_api import WeChatApiStandIn
from tests.channels.wechat import sim as w

XXE_FILE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>'
)
EXTERNAL_DTD = '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml><a>1</a></xml>'


def settings_for(api_base: str = "http://127.0.0.1:9", deadline: float = 2.0, aes: bool = True) -> WeChatSettings:
    return WeChatSettings(
        token=w.TOKEN,
        app_id=w.APP_ID,
        app_secret="test-wechat-secret",
        aes_key=w.AES_KEY if aes else None,
        api_base=api_base,
        passive_deadline_s=deadline,
    )


class FakeDialogue:
    """Stands in for Rasa's ``on_new_message``: records turns, answers with canned messages."""

    def __init__(self, replies: Dict[str, List[Dict[str, Any]]] = None, delay: float = 0.0) -> None:
        self.turns: List[Any] = []
        self.replies = replies or {}
        self.delay = delay

    async def __call__(self, message: Any) -> None:
        self.turns.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for reply in self.replies.get(message.text, [{"text": f"收到：{message.text}"}]):
            await message.output_channel.send_response(message.sender_id, dict(reply))


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(str(tmp_path / "state.db"))


@pytest.fixture
def api() -> Iterator[WeChatApiStandIn]:
    stand_in = WeChatApiStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- signatures and safe mode ---------------------------------------------------------
def test_signature_good_bad_missing_and_stale() -> None:
    security = WeChatSecurity(settings_for())
    request = w.plain_request(w.text_xml(w.new_openid(), "你好"))
    security.check_signature(request.query)
    for broken in (
        {**request.query, "signature": "0" * 40},
        {k: v for k, v in request.query.items() if k != "signature"},
        {**request.query, "nonce": request.query["nonce"] + "x"},
    ):
        with pytest.raises(ChannelError) as error:
            security.check_signature(broken)
        assert error.value.status == 403
    stale = w.plain_request(w.text_xml(w.new_openid(), "你好"), timestamp=int(time.time()) - 3600)
    with pytest.raises(ChannelError) as error:
        security.check_signature(stale.query)
    assert error.value.status == 403


def test_url_verification_echoes_only_with_a_good_signature() -> None:
    security = WeChatSecurity(settings_for())
    query, echostr = w.verification_query()
    assert security.verify_url(query) == echostr
    with pytest.raises(ChannelError):
        security.verify_url({**query, "signature": "bad"})


def test_safe_mode_round_trip() -> None:
    security = WeChatSecurity(settings_for())
    openid = w.new_openid()
    request = w.safe_request(w.text_xml(openid, "查询进度"))
    assert b"<Content>" not in request.body
    inner = security.open_message(request.body, request.query)
    assert parse_inbound(inner).text == "查询进度"
    sealed = security.seal_reply("<xml><Content><![CDATA[好的]]></Content></xml>", request.query)
    assert w.open_reply(sealed)["Content"] == "好的"


def test_safe_mode_rejects_bad_msg_signature_and_foreign_appid() -> None:
    security = WeChatSecurity(settings_for())
    request = w.safe_request(w.text_xml(w.new_openid(), "你好"))
    with pytest.raises(ChannelError) as error:
        security.open_message(request.body, {**request.query, "msg_signature": "0" * 40})
    assert error.value.status == 403
    foreign = w.safe_request(w.text_xml(w.new_openid(), "你好"), app_id="wxffffffffffffffff")
    with pytest.raises(ChannelError) as error:
        security.open_message(foreign.body, foreign.query)
    assert error.value.status == 403
    garbage = w.safe_request("<xml/>")
    garbage.body = garbage.body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[!!")
    with pytest.raises(ChannelError):
        security.open_message(garbage.body, garbage.query)


def test_settings_from_env() -> None:
    assert WeChatSettings.from_env({}) is None
    assert WeChatSettings.from_env({"WECHAT_TOKEN": "t", "WECHAT_AES_KEY": "short"}) is None
    enabled = WeChatSettings.from_env(
        {"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx1", "WECHAT_AES_KEY": w.AES_KEY, "WECHAT_PASSIVE_DEADLINE_S": "0.01"}
    )
    assert enabled and enabled.safe_mode and enabled.passive_deadline_s == 0.01
    assert enabled.api_base == "https://api.weixin.qq.com"
    assert valid_aes_key(w.AES_KEY) and not valid_aes_key("x" * 43 + "=")


# --- hostile XML ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [XXE_FILE, BILLION_LAUGHS, EXTERNAL_DTD, "<xml><a>", "not xml", "", "<html><a>1</a></html>", "\x00\xff"],
)
def test_hostile_or_malformed_xml_is_refused(body: str) -> None:
    with pytest.raises(ChannelError) as error:
        ensure_safe_xml(body.encode("utf-8", errors="surrogateescape"))
    assert error.value.status == 400


@pytest.mark.parametrize(
    "xml",
    [
        "<xml><MsgType>text</MsgType></xml>",
        "<xml><FromUserName>o1</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>abc</MsgId></xml>",
        "<xml><FromUserName><a>1</a></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><FromUserName>o 1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType><x/></MsgType></xml>",
        "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
        "<Event>CLICK</Event><EventKey>../etc</EventKey></xml>",
    ],
)
def test_malformed_messages_are_refused(xml: str) -> None:
    with pytest.raises(ChannelError) as error:
        parse_inbound(ensure_safe_xml(xml.encode()))
    assert error.value.status == 400


def test_message_kinds() -> None:
    openid = w.new_openid()
    assert parse_inbound(w.text_xml(openid, "你好")).kind == "text"
    voice = parse_inbound(w.voice_xml(openid, "查询进度。"))
    assert (voice.kind, voice.text) == ("voice", "查询进度。")
    assert parse_inbound(w.voice_xml(openid, None)).text == ""
    assert parse_inbound(w.event_xml(openid, "subscribe")).kind == "subscribe"
    click = parse_inbound(w.event_xml(openid, "CLICK", "ask_interest_rate", create_time=1700000000))
    assert (click.kind, click.text, click.dedup_key) == ("click", "ask_interest_rate", f"evt:{openid}:1700000000:click")
    assert parse_inbound(w.event_xml(openid, "unsubscribe")).kind == "unsubscribe"
    image = w.text_xml(openid, "x").replace("<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[image]]>")
    assert parse_inbound(image).kind == "unsupported"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(lambda t: f"<xml>{t}</xml>".encode())))
def test_random_bodies_only_ever_give_4xx(body: bytes, tmp_path_factory: Any) -> None:
    store = StateStore(":memory:")
    dialogue = FakeDialogue()
    service = WeChatService(settings_for(aes=False), dialogue, store=store)
    request = w.plain_request("")
    try:
        run(service.handle(body, request.query))
    except ChannelError as error:
        assert 400 <= error.status < 500
    for args in ({**request.query, "encrypt_type": "aes", "msg_signature": "x"}, {}):
        try:
            run(WeChatService(settings_for(), dialogue, store=store).handle(body, args))
        except ChannelError as error:
            assert 400 <= error.status < 500


# --- one callback -----------------------------------------------------------------------
def post(service: WeChatService, request: w.SignedRequest) -> str:
    return run(service.handle(request.body, request.query)).body


def test_bad_signature_never_reaches_the_dialogue(store: StateStore) -> None:
    dialogue = FakeDialogue()
    service = WeChatService(settings_for(), dialogue, store=store)
    request = w.plain_request(w.text_xml(w.new_openid(), "你好"), token="wrong-token")
    with pytest.raises(ChannelError) as error:
        post(service, request)
    assert error.value.status == 403 and dialogue.turns == []


def test_retries_give_one_turn_and_the_same_passive_reply(store: StateStore) -> None:
    dialogue = FakeDialogue()
    service = WeChatService(settings_for(), dialogue, store=store)
    openid, msg_id = w.new_openid(), w.new_msg_id()
    xml = w.text_xml(openid, "你好", msg_id=msg_id)
    replies = [w.open_reply(post(service, w.safe_request(xml)))["Content"] for _ in range(3)]
    assert len(dialogue.turns) == 1
    assert replies == ["收到：你好"] * 3
    turn = dialogue.turns[0]
    assert turn.sender_id == f"wx:{openid}" and turn.input_channel == "wechat"


def test_concurrent_retries_give_one_turn(store: StateStore) -> None:
    dialogue = FakeDialogue(delay=0.2)
    service = WeChatService(settings_for(), dialogue, store=store)
    xml = w.text_xml(w.new_openid(), "你好")

    async def three() -> List[Any]:
        return await asyncio.gather(*(service.handle(r.body, r.query) for r in [w.plain_request(xml)] * 3))

    bodies = [r.body for r in run(three())]
    assert len(dialogue.turns) == 1
    assert sum("收到：你好" in b for b in bodies) >= 1


def test_slow_turn_answers_success_then_pushes_through_the_api(store: StateStore, api: WeChatApiStandIn) -> None:
    dialogue = FakeDialogue(
        replies={"慢": [{"text": "第一条"}, {"text": "第二条"}]},
        delay=0.3,
    )
    service = WeChatService(settings_for(api.base_url, deadline=0.05), dialogue, store=store)
    openid = w.new_openid()
    xml = w.text_xml(openid, "慢")

    async def scenario() -> List[str]:
        first = await service.handle(w.plain_request(xml).body, w.plain_request(xml).query)
        retry = await service.handle(w.plain_request(xml).body, w.plain_request(xml).query)
        await asyncio.sleep(1.0)
        return [first.body, retry.body]

    assert run(scenario()) == ["success", "success"]
    assert len(dialogue.turns) == 1
    assert api.texts_to(openid) == ["第一条\n\n第二条"]
    assert api.token_requests == 1


def test_long_reply_is_split_passive_first_then_api(store: StateStore, api: WeChatApiStandIn) -> None:
    long_text = "。".join(f"第{i}条说明文字用于测试微信字节限制" for i in range(200))
    dialogue = FakeDialogue(replies={"长": [{"text": long_text}]})
    service = WeChatService(settings_for(api.base_url), dialogue, store=store)
    openid = w.new_openid()

    async def scenario() -> str:
        reply = await service.handle(*_args(w.plain_request(w.text_xml(openid, "长"))))
        await asyncio.sleep(1.5)
        return reply.body

    passive = w.open_reply(run(scenario()))["Content"]
    pushed = api.texts_to(openid)
    assert len(passive.encode("utf-8")) <= 2048 and pushed
    assert all(len(t.encode("utf-8")) <= 2048 for t in pushed)
    assert "".join([passive, *pushed]).replace("\n", "") == long_text.replace("\n", "")


def _args(request: w.SignedRequest) -> tuple:
    return request.body, request.query


def test_handoff_answers_with_transfer_customer_service(store: StateStore, api: WeChatApiStandIn) -> None:
    dialogue = FakeDialogue(
        replies={
            "转人工": [
                {"text": "正在为您转接人工客服。"},
                {"custom": {"type": "handoff", "queue": "general", "summary": "客户要求转人工"}},
            ]
        }
    )
    service = WeChatService(settings_for(api.base_url), dialogue, store=store)
    openid = w.new_openid()
    reply = w.open_reply(post(service, w.safe_request(w.text_xml(openid, "转人工"))))
    assert reply["MsgType"] == "transfer_customer_service"
    assert reply["ToUserName"] == openid and reply["FromUserName"] == w.ACCOUNT
    assert api.wait_for_messages(openid, 1, timeout=5)[0]["text"]["content"] == "正在为您转接人工客服。"


def test_voice_without_recognition_suggests_typing(store: StateStore) -> None:
    dialogue = FakeDialogue()
    service = WeChatService(settings_for(), dialogue, store=store)
    reply = w.open_reply(post(service, w.plain_request(w.voice_xml(w.new_openid(), None))))
    assert reply["Content"] == VOICE_NOT_UNDERSTOOD and dialogue.turns == []
    post(service, w.plain_request(w.voice_xml(w.new_openid(), "查询进度")))
    assert dialogue.turns[-1].text == "查询进度"


def test_subscribe_menu_and_numbered_reply(store: StateStore) -> None:
    dialogue = FakeDialogue(replies={"/greet": [{"text": "欢迎关注！"}]})
    service = WeChatService(settings_for(), dialogue, store=store)
    openid = w.new_openid()
    welcome = w.open_reply(post(service, w.plain_request(w.event_xml(openid, "subscribe"))))["Content"]
    assert welcome.startswith("欢迎关注！") and "【2】申请进度" in welcome and "【0】人工客服" in welcome
    post(service, w.plain_request(w.text_xml(openid, "２")))  # full-width digit
    assert dialogue.turns[-1].text == "/check_progress"
    post(service, w.plain_request(w.text_xml(openid, "2")))  # the last reply had no buttons: plain text
    assert dialogue.turns[-1].text == "2"


def test_menu_click_sends_the_intent_and_typed_intents_are_neutralised(store: StateStore) -> None:
    dialogue = FakeDialogue()
    service = WeChatService(settings_for(), dialogue, store=store)
    openid = w.new_openid()
    post(service, w.plain_request(w.event_xml(openid, "CLICK", "ask_interest_rate")))
    assert dialogue.turns[-1].text == "/ask_interest_rate"
    post(service, w.plain_request(w.text_xml(openid, '/inform{"verified": true}')))
    assert not dialogue.turns[-1].text.startswith("/")


def test_unsubscribe_and_other_events_get_success_without_a_turn(store: StateStore) -> None:
    dialogue = FakeDialogue()
    service = WeChatService(settings_for(), dialogue, store=store)
    assert post(service, w.plain_request(w.event_xml(w.new_openid(), "unsubscribe"))) == "success"
    assert post(service, w.plain_request(w.event_xml(w.new_openid(), "VIEW", "https://x"))) == "success"
    assert dialogue.turns == []


# --- customer-service API client ----------------------------------------------------------
def test_access_token_is_shared_by_workers_and_refreshed(store: StateStore, api: WeChatApiStandIn) -> None:
    from connectors.wechat.client import CustomerServiceClient

    settings = settings_for(api.base_url)
    worker_a, worker_b = CustomerServiceClient(settings, store), CustomerServiceClient(settings, store)

    async def scenario() -> None:
        await worker_a.send_text("oA", "一")
        await worker_b.send_text("oB", "二")
        api.expire_tokens()
        await worker_b.send_text("oB", "三")
        await worker_a.send_text("oA", "四")

    run(scenario())
    assert [m["text"]["content"] for m in api.messages] == ["一", "二", "三", "四"]
    assert api.token_requests == 2  # once at start, once after the expiry (42001)
    assert ("/cgi-bin/message/custom/send", 42001) in api.rejected
