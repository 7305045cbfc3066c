"""微信客服 channel in process (no Rasa server): WeCom is a local stand-in (harness.wecom_api) speaking its
documented wire format (gettoken, kf/sync_msg with cursors and has_more, kf/send_msg with 95001/95002,
send_msg_on_event, service_state, the encrypted callback); the dialogue is a stand-in recording turns.

URL verification, hostile callbacks, the pull with its persisted cursor and msgid de-duplication, turns in
order per customer, the sending rules, the handoff and the return to the bot, the welcome."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import credit.service  # noqa: F401 - registers every table on the business database's metadata
from connectors.http import ChannelError
from connectors.state import StateStore
from connectors.wecom_kf.config import WeComKfSettings
from connectors.wecom_kf.conversation import IMAGE_REPLY, VOICE_REPLY
from connectors.wecom_kf.render import click_id
from connectors.wecom_kf.service import KfService
from connectors.wecom_kf.window import LIMIT_NOTE
from credit.db.engine import get_engine, init_db
from harness.wecom_api import WeComKfStandIn

CUSTOMER = "wmCUSTOMER000001"


class Dialogue:
    """Stands in for Rasa's ``on_new_message``: records turns, answers with canned messages."""

    def __init__(self, replies: Dict[str, List[Dict[str, Any]]] | None = None, delay: float = 0.0) -> None:
        self.turns: List[Any] = []
        self.replies = replies or {}
        self.delay = delay

    async def __call__(self, message: Any) -> None:
        self.turns.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for reply in self.replies.get(message.text, [{"text": f"收到：{message.text}"}]):
            await message.output_channel.send_response(message.sender_id, dict(reply))

    def texts(self, sender: str | None = None) -> List[str]:
        return [t.text for t in self.turns if sender is None or t.sender_id == sender]


@pytest.fixture
def api() -> Iterator[WeComKfStandIn]:
    stand_in = WeComKfStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def make(api: WeComKfStandIn, tmp_path: Path):
    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    store = StateStore(str(tmp_path / "state.db"))

    def build(dialogue: Dialogue, **overrides: Any) -> KfService:
        fields = dict(corp_id=api.corp_id, secret=api.secret, token=api.token, aes_key=api.aes_key,
                      api_base=api.base_url, servicer="zhangsan")
        fields.update(overrides)
        return KfService(WeComKfSettings(**fields), dialogue, engine=engine, store=store)

    yield build
    engine.dispose()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def callback(service: KfService, api: WeComKfStandIn) -> str:
    query, body = api.callback()
    reply = await service.handle(body, query)
    await service.idle()
    return reply


# --- the callback URL and hostile callbacks --------------------------------------------------
def test_url_verification_returns_the_decrypted_echostr(api, make) -> None:
    service = make(Dialogue())
    assert service.verify(api.verification("echo-12345")) == "echo-12345"
    for broken in ({**api.verification("x"), "msg_signature": "0" * 40},
                   api.verification("x", token="not-the-token"),
                   {**api.verification("x"), "timestamp": str(int(time.time()) - 3600)}):
        with pytest.raises(ChannelError) as error:
            service.verify(broken)
        assert error.value.status == 403
    with pytest.raises(ChannelError) as error:
        service.verify({k: v for k, v in api.verification("x").items() if k != "echostr"})
    assert error.value.status in (400, 403)


@pytest.mark.parametrize("forge", [
    {"token": "not-the-token"},  # signed with another Token
    {"aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},  # encrypted with another key
    {"corp_id": "wwSOMEONEELSE00000"},  # encrypted for another company
])
def test_forged_callbacks_are_refused_and_pull_nothing(api, make, forge) -> None:
    dialogue = Dialogue()
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "你好")
    query, body = api.callback(**forge)
    with pytest.raises(ChannelError) as error:
        run(service.handle(body, query))
    assert error.value.status in (400, 403)
    assert api.sync_calls == 0 and dialogue.turns == []
    assert run(callback(service, api)) == "success"  # nothing was lost: the real callback pulls it
    assert dialogue.texts() == ["你好"]


@pytest.mark.parametrize("body", [
    b"", b"not xml", b"<xml><Encrypt>@@@not-base64@@@</Encrypt></xml>", b"<xml><ToUserName>x</ToUserName></xml>",
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
])
def test_malformed_bodies_get_clear_errors(api, make, body) -> None:
    service = make(Dialogue())
    query, _ = api.callback()
    with pytest.raises(ChannelError) as error:
        run(service.handle(body, query))
    assert 400 <= error.value.status < 500 and error.value.zh and error.value.en


def test_huge_body_is_refused_before_decryption(api, make) -> None:
    service = make(Dialogue())
    query, _ = api.callback()
    with pytest.raises(ChannelError) as error:
        run(service.handle(b"<xml><Encrypt>" + b"A" * (1024 * 1024) + b"</Encrypt></xml>", query))
    assert error.value.status == 413


# --- pulling -----------------------------------------------------------------------------------
def test_pull_follows_has_more_and_keeps_order_per_customer(api, make) -> None:
    api.page_size = 2
    dialogue = Dialogue(delay=0.02)
    service = make(dialogue)
    for n in range(5):
        api.customer_sends(CUSTOMER, f"第{n}条")
    api.customer_sends("wmOTHER0000001", "另一位")
    assert run(callback(service, api)) == "success"
    assert dialogue.texts(f"kf:{CUSTOMER}") == [f"第{n}条" for n in range(5)]
    assert dialogue.texts("kf:wmOTHER0000001") == ["另一位"]
    assert api.sync_calls >= 3  # 6 messages, 2 per page
    assert [m["text"]["content"] for m in api.sent_to(CUSTOMER)] == [f"收到：第{n}条" for n in range(5)]


def test_duplicate_callbacks_and_a_replayed_page_make_one_turn_each(api, make) -> None:
    dialogue = Dialogue()
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "你好")
    run(callback(service, api))
    run(callback(service, api))  # WeCom retried the callback: nothing new after the cursor
    with service.ledger.engine.begin() as conn:  # a lost cursor update: the same page comes again
        conn.exec_driver_sql("UPDATE wecom_kf_cursors SET cursor = NULL")
    run(callback(service, api))
    assert dialogue.texts() == ["你好"]
    assert len(api.sent_to(CUSTOMER)) == 1


def test_a_callback_during_a_running_pull_is_pulled_too(api, make) -> None:
    dialogue = Dialogue(delay=0.3)
    service = make(dialogue)

    async def two_callbacks() -> None:
        for text in ("一", "二", "三"):
            api.customer_sends(CUSTOMER, text)
            query, body = api.callback()
            assert await service.handle(body, query) == "success"
            await asyncio.sleep(0.1)  # the first pull is still running its turn
        await service.idle()

    run(two_callbacks())
    assert dialogue.texts() == ["一", "二", "三"] and len(api.sent_to(CUSTOMER)) == 3


def test_a_new_process_goes_on_from_the_stored_cursor(api, make) -> None:
    first = Dialogue()
    api.customer_sends(CUSTOMER, "一")
    run(callback(make(first), api))
    api.customer_sends(CUSTOMER, "二")
    second = Dialogue()
    service = make(second)  # a restart: new process, same database

    async def restart() -> None:
        await service.start()
        await asyncio.sleep(0.1)
        await service.idle()

    run(restart())
    assert first.texts() == ["一"] and second.texts() == ["二"]


def test_a_message_left_pending_by_a_dead_process_is_answered_once(api, make) -> None:
    dialogue = Dialogue()
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "在吗")
    # a process stored the page (cursor moved past the message) and died before the turn
    page = api._sync("/cgi-bin/kf/sync_msg", {"open_kfid": api.open_kfid})
    service.ledger.take_lease(api.open_kfid, "dead-worker", None, -1.0)  # its lease has run out
    entry = page["msg_list"][0]
    service.ledger.store_page(api.open_kfid, "dead-worker", page["next_cursor"],
                              [(entry["msgid"], CUSTOMER, "text", entry)])
    run(callback(service, api))
    assert dialogue.texts() == ["在吗"] and len(api.sent_to(CUSTOMER)) == 1


def test_an_expired_access_token_is_fetched_again(api, make) -> None:
    service = make(Dialogue())
    api.customer_sends(CUSTOMER, "一")
    run(callback(service, api))
    api.expire_tokens()
    api.customer_sends(CUSTOMER, "二")
    run(callback(service, api))
    assert len(api.sent_to(CUSTOMER)) == 2 and ("/cgi-bin/kf/sync_msg", 42001) in api.rejected


# --- messages ------------------------------------------------------------------------------------
def test_buttons_go_as_msgmenu_and_a_tap_comes_back_as_the_payload(api, make) -> None:
    buttons = [{"title": "查询进度", "payload": "/check_progress"}, {"title": "人工客服", "payload": "/request_human"}]
    dialogue = Dialogue({"你好": [{"text": "请问想办理什么？", "buttons": buttons}]})
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "你好")
    run(callback(service, api))
    menu = api.sent_to(CUSTOMER)[0]
    assert menu["msgtype"] == "msgmenu" and menu["msgmenu"]["head_content"] == "请问想办理什么？"
    items = [i["click"] for i in menu["msgmenu"]["list"]]
    assert [i["content"] for i in items] == ["查询进度", "人工客服"] and items[0]["id"] == click_id("/check_progress")
    api.customer_sends(CUSTOMER, "查询进度", menu_id=items[0]["id"])
    api.customer_sends(CUSTOMER, "/restart")  # typed, not tapped: text, never an intent
    run(callback(service, api))
    assert dialogue.texts()[1:] == ["/check_progress", "／restart"]


def test_images_and_voice_get_a_short_text_answer(api, make) -> None:
    dialogue = Dialogue()
    service = make(dialogue)
    api.customer_sends(CUSTOMER, msgtype="image")
    api.customer_sends(CUSTOMER, msgtype="voice")
    api.customer_sends(CUSTOMER, msgtype="voice", body={"media_id": "M1", "text": "查一下进度"})
    run(callback(service, api))
    texts = [m["text"]["content"] for m in api.sent_to(CUSTOMER)]
    assert texts[:2] == [IMAGE_REPLY, VOICE_REPLY] and dialogue.texts() == ["查一下进度"]


# --- sending rules ---------------------------------------------------------------------------------
def long_reply(pieces: int) -> List[Dict[str, Any]]:
    return [{"text": f"第{n}部分。" + "详细说明" * 500} for n in range(pieces)]  # each ~6 KB: 3+ messages


def test_five_messages_at_most_the_last_says_so_and_continue_sends_the_rest(api, make) -> None:
    dialogue = Dialogue({"全部条款": long_reply(3)})
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "全部条款")
    run(callback(service, api))
    sent = api.sent_to(CUSTOMER)
    assert len(sent) == 5 and all(len(m["text"]["content"].encode()) <= 2048 for m in sent)
    assert sent[-1]["text"]["content"].endswith(LIMIT_NOTE)
    assert not [r for r in api.rejected if r[1] in (95001, 95002)]  # enforced, not discovered
    held = service.ledger.held_records(CUSTOMER)
    assert held[0]["reason"] == "limit" and held[0]["status"] == "waiting"
    api.customer_sends(CUSTOMER, "继续")
    run(callback(service, api))
    assert dialogue.texts() == ["全部条款"]  # "继续" sent the rest, it was no turn
    rest = "".join(m["text"]["content"] for m in api.sent_to(CUSTOMER)[5:])
    assert "第2部分" in rest and service.ledger.held_records(CUSTOMER)[0]["status"] == "resumed"


def test_nothing_is_sent_after_48_hours_and_it_is_recorded(api, make) -> None:
    dialogue = Dialogue()
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "你好", at=time.time() - 49 * 3600)  # pulled late (WeCom keeps 3 days)
    run(callback(service, api))
    assert api.sent_to(CUSTOMER) == [] and dialogue.texts() == ["你好"]
    assert service.ledger.held_records(CUSTOMER)[0]["reason"] == "window_expired"


def test_wecom_refusing_with_95002_holds_the_rest(api, make) -> None:
    service = make(Dialogue())
    api.customer_sends(CUSTOMER, "你好")
    api._sends_since[(api.open_kfid, CUSTOMER)] = 5  # someone else (a person in WeCom) used the allowance
    run(callback(service, api))
    assert api.sent_to(CUSTOMER) == [] and ("/cgi-bin/kf/send_msg", 95002) in api.rejected
    assert service.ledger.held_records(CUSTOMER)[0]["reason"] == "limit"


# --- handoff and welcome -----------------------------------------------------------------------------
HANDOFF = [{"text": "正在为您转接人工客服，请稍候。"},
           {"custom": {"type": "handoff", "queue": "general", "summary": "话题: 投诉", "agents_available": True}}]


def test_handoff_moves_the_session_the_bot_is_silent_then_resumes(api, make) -> None:
    dialogue = Dialogue({"转人工": HANDOFF})
    service = make(dialogue)
    api.customer_sends(CUSTOMER, "转人工")
    run(callback(service, api))
    assert api.sent_to(CUSTOMER)[0]["text"]["content"].startswith("正在为您转接")
    assert api.state(CUSTOMER) == 3 and api.transfers[-1]["servicer_userid"] == "zhangsan"
    api.customer_sends(CUSTOMER, "人呢")
    api.servicer_says(CUSTOMER, "您好，我是客服张三")
    run(callback(service, api))
    assert dialogue.texts() == ["转人工"] and len(api.sent_to(CUSTOMER)) == 1  # silent while a person holds it
    api.servicer_ends(CUSTOMER)
    api.customer_sends(CUSTOMER, "还有个问题")
    run(callback(service, api))
    assert dialogue.texts() == ["转人工", "还有个问题"] and api.state(CUSTOMER) == 1


def test_handoff_outside_the_agents_hours_keeps_the_bot(api, make) -> None:
    closed = [HANDOFF[0], {"custom": {**HANDOFF[1]["custom"], "agents_available": False}}]
    service = make(Dialogue({"转人工": closed}))
    api.customer_sends(CUSTOMER, "转人工")
    run(callback(service, api))
    assert api.state(CUSTOMER) == 1 and not [t for t in api.transfers if t["service_state"] in (2, 3)]


def test_handoff_without_a_servicer_goes_to_the_queue(api, make) -> None:
    service = make(Dialogue({"转人工": HANDOFF}), servicer=None)
    api.customer_sends(CUSTOMER, "转人工")
    run(callback(service, api))
    assert api.state(CUSTOMER) == 2


def test_enter_session_gets_the_welcome_through_send_msg_on_event(api, make) -> None:
    greet = [{"text": "您好，我是智能客服小信", "buttons": [{"title": "利率与费用", "payload": "/ask_interest_rate"}]}]
    dialogue = Dialogue({"/greet": greet})
    service = make(dialogue)
    code = api.customer_enters(CUSTOMER)
    started = time.monotonic()
    run(callback(service, api))
    welcome = api.sent_to(CUSTOMER)
    assert len(welcome) == 1 and welcome[0]["on_event"] and welcome[0]["code"] == code
    assert welcome[0]["msgmenu"]["head_content"].startswith("您好") and time.monotonic() - started < 20
    api.customer_sends(CUSTOMER, "利率与费用", menu_id=welcome[0]["msgmenu"]["list"][0]["click"]["id"])
    run(callback(service, api))
    assert dialogue.texts() == ["/greet", "/ask_interest_rate"]


def test_a_slow_welcome_turn_still_welcomes_in_time(api, make) -> None:
    service = make(Dialogue(delay=5.0), welcome_budget_s=0.5)
    api.customer_enters(CUSTOMER)
    run(callback(service, api))
    welcome = api.sent_to(CUSTOMER)
    assert len(welcome) == 1 and "小信" in welcome[0]["msgmenu"]["head_content"]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(entry=st.dictionaries(st.sampled_from(["msgid", "msgtype", "open_kfid", "external_userid", "origin",
                                              "text", "event", "send_time"]),
                             st.one_of(st.none(), st.integers(), st.text(max_size=40),
                                       st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=4)),
                             max_size=8))
def test_any_sync_entry_parses_or_is_skipped(entry: Dict[str, Any]) -> None:
    from connectors.wecom_kf.messages import parse_entry

    message = parse_entry(entry)
    assert message is None or (message.msgid and message.sender_id.startswith("kf:"))
