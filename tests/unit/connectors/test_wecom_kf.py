"""微信客服 pieces on their own: the kf API class (wechatpy ``BaseWeChatAPI``) against the WeCom stand-in
(harness.wecom_api, a local server speaking WeCom's documented wire format), the sending-window rules,
the splitter and msgmenu limits, sync_msg entries, the settings, SMS-free verification by a verified
unionid binding, and outreach never choosing 微信客服 for a notice."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from connectors.state import StateStore
from connectors.wecom_kf import kf_api
from connectors.wecom_kf.client import KfApiClient
from connectors.wecom_kf.config import WeComKfSettings
from connectors.wecom_kf.messages import parse_entry
from connectors.wecom_kf.render import (
    CLICK_ID_LIMIT_BYTES,
    MAX_MENU_ITEMS,
    MENU_HEAD_LIMIT_BYTES,
    MENU_ITEM_LIMIT_BYTES,
    TEXT_LIMIT_BYTES,
    Outgoing,
    click_id,
    render_kf,
    with_note,
)
from connectors.wecom_kf.window import EXPIRED, LIMIT, LIMIT_NOTE, WINDOW_S, WindowState, plan
from credit.catalogue.loader import DEFAULT_PATH, load_catalogue, parse_catalogue
from credit.db.engine import session_scope
from credit.db.loans import Application
from credit.db.outreach import ContactPoint
from credit.policy import CHINA_TZ
from credit.service import LoanService
from credit.wechat_identity import record_kf_customer
from harness.wecom_api import WeComKfStandIn
from outreach.engine import OutreachEngine
from outreach.registry import default_channels
from tests.seeded import Clock

NOW = 1_800_000_000.0


def size(text: str) -> int:
    return len(text.encode("utf-8"))


# --- the kf API class ------------------------------------------------------------------------
@pytest.fixture
def api() -> Iterator[WeComKfStandIn]:
    stand_in = WeComKfStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def client(api: WeComKfStandIn, tmp_path: Path) -> KfApiClient:
    settings = WeComKfSettings(corp_id=api.corp_id, secret=api.secret, token=api.token, aes_key=api.aes_key,
                               api_base=api.base_url)
    return KfApiClient(settings, StateStore(str(tmp_path / "state.db")))


def test_sync_msg_pages_with_the_cursor_until_has_more_is_0(api, client) -> None:
    api.page_size = 2
    sent = [api.customer_sends("wmA", f"m{n}") for n in range(5)]
    cursor, seen, pages = None, [], 0
    while True:
        page = client.kf.sync_msg(api.open_kfid, cursor=cursor)
        seen += [m["msgid"] for m in page["msg_list"]]
        cursor, pages = page["next_cursor"], pages + 1
        if not page["has_more"]:
            break
    assert seen == sent and pages == 3
    assert client.kf.sync_msg(api.open_kfid, cursor=cursor)["msg_list"] == []  # nothing replayed


def test_send_msg_text_and_msgmenu_bodies_are_wecoms(api, client) -> None:
    api.customer_sends("wmA", "你好")
    api.states[(api.open_kfid, "wmA")] = 1
    assert client.kf.send_text("wmA", api.open_kfid, "您好", msgid="r1-0")["msgid"] == "r1-0"
    items = [{"type": "click", "click": {"id": "m1", "content": "查进度"}}]
    client.kf.send_msgmenu("wmA", api.open_kfid, "请选择", items)
    assert api.sent[0] == {"touser": "wmA", "open_kfid": api.open_kfid, "msgid": "r1-0", "msgtype": "text",
                           "text": {"content": "您好"}}
    assert api.sent[1]["msgmenu"] == {"head_content": "请选择", "list": items}


def test_send_msg_errors_are_raised_with_wecoms_errcode(api, client) -> None:
    api.customer_sends("wmA", "你好", at=NOW - WINDOW_S - 60)  # long ago
    api.age_window("wmA", 10 ** 10)
    with pytest.raises(WeChatClientException) as error:
        client.kf.send_text("wmA", api.open_kfid, "晚了")
    assert error.value.errcode == 95001
    api.customer_sends("wmB", "你好")
    for n in range(5):
        client.kf.send_text("wmB", api.open_kfid, f"第{n}条")
    with pytest.raises(WeChatClientException) as error:
        client.kf.send_text("wmB", api.open_kfid, "第6条")
    assert error.value.errcode == 95002


def test_service_state_get_trans_and_the_event_response(api, client) -> None:
    api.customer_sends("wmA", "你好")
    assert client.kf.get_service_state(api.open_kfid, "wmA")["service_state"] == kf_api.UNTREATED
    client.kf.trans_service_state(api.open_kfid, "wmA", kf_api.BOT)
    moved = client.kf.trans_service_state(api.open_kfid, "wmA", kf_api.HUMAN, servicer_userid="zhangsan")
    assert client.kf.get_service_state(api.open_kfid, "wmA") == {
        "errcode": 0, "errmsg": "ok", "service_state": kf_api.HUMAN, "servicer_userid": "zhangsan"}
    with pytest.raises(WeChatClientException) as error:  # 3 -> 1 is not a documented transition
        client.kf.trans_service_state(api.open_kfid, "wmA", kf_api.BOT)
    assert error.value.errcode == 95016
    client.kf.send_msg_on_event(moved["msg_code"], "text", {"content": "已为您接通人工客服"})
    with pytest.raises(WeChatClientException):  # a code is used once
        client.kf.send_msg_on_event(moved["msg_code"], "text", {"content": "再来一次"})


def test_a_refused_access_token_is_fetched_again_by_wechatpy(api, client) -> None:
    client.kf.batchget_customer(["wmA"])
    api.expire_tokens()
    api.unionids["wmA"] = "u_1"
    assert client.kf.batchget_customer(["wmA"])["customer_list"][0]["unionid"] == "u_1"
    assert ("/cgi-bin/kf/customer/batchget", 42001) in api.rejected
    client.session.set(client.access_token_key, "forged-token", 7200)
    assert client.kf.get_service_state(api.open_kfid, "wmA")["service_state"] == kf_api.ENDED
    assert ("/cgi-bin/kf/service_state/get", 40014) in api.rejected


# --- window rules ----------------------------------------------------------------------------------
def texts(n: int) -> list:
    return [Outgoing.text(f"第{i}条") for i in range(n)]


def test_within_the_window_and_the_allowance_everything_goes() -> None:
    state = WindowState(NOW - 3600, sent=2)
    result = plan(texts(3), state, NOW)
    assert [i.content for i in result.send] == ["第0条", "第1条", "第2条"] and not result.held and not result.noted


def test_over_the_allowance_the_last_allowed_message_says_so() -> None:
    result = plan(texts(7), WindowState(NOW - 60, sent=1), NOW)
    assert len(result.send) == 4 and result.send[-1].content == "第3条\n\n" + LIMIT_NOTE
    assert [i.content for i in result.held] == ["第4条", "第5条", "第6条"] and result.reason == LIMIT and result.noted


def test_no_allowance_left_or_the_window_closed_sends_nothing() -> None:
    assert plan(texts(1), WindowState(NOW - 60, sent=5), NOW).reason == LIMIT
    closed = plan(texts(2), WindowState(NOW - WINDOW_S - 1, sent=0), NOW)
    assert closed.send == [] and len(closed.held) == 2 and closed.reason == EXPIRED
    assert plan(texts(1), WindowState(None), NOW).reason == EXPIRED  # the customer never wrote


def test_a_customer_message_renews_the_window_and_the_allowance_an_older_one_does_not() -> None:
    state = WindowState(NOW - 100, sent=5)
    assert state.after_customer_message(NOW) == WindowState(NOW, 0)
    assert state.after_customer_message(NOW - 200) == state
    assert WindowState(NOW - WINDOW_S, 0).remaining(NOW) == 5 and WindowState(NOW - WINDOW_S - 1).remaining(NOW) == 0


def test_the_note_on_a_full_text_moves_its_tail_to_the_held_part() -> None:
    full = Outgoing.text("很" * (TEXT_LIMIT_BYTES // 3))
    noted, rest = with_note(full, LIMIT_NOTE)
    assert size(noted.content) <= TEXT_LIMIT_BYTES and noted.content.endswith(LIMIT_NOTE)
    assert rest is not None and noted.content.replace("\n\n" + LIMIT_NOTE, "") + rest.content == full.content
    menu, none = with_note(Outgoing("msgmenu", {"head_content": "选", "list": []}), LIMIT_NOTE)
    assert none is None and menu.body["tail_content"] == LIMIT_NOTE


# --- splitter and msgmenu ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["还款说明。" * 900, "😀" * 1500, "a" * 5000 + "\n\n" + "利率" * 800,
                                  "第一段\n" * 700])
def test_long_replies_are_split_within_2048_bytes_losing_nothing(text: str) -> None:
    rendering = render_kf([{"text": text}])
    pieces = [i.content for i in rendering.items]
    assert len(pieces) > 1 and all(0 < size(p) <= TEXT_LIMIT_BYTES for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.strip().replace("\n", "")


def test_short_texts_are_packed_into_as_few_messages_as_fit() -> None:
    rendering = render_kf([{"text": "第一句。"}, {"text": "第二句。"}, {"text": "第三句。"}])
    assert [i.content for i in rendering.items] == ["第一句。\n\n第二句。\n\n第三句。"]


def test_buttons_become_a_msgmenu_within_wecoms_limits() -> None:
    buttons = [{"title": f"选项{n}" + "长" * 100, "payload": f"/inform{{\"n\": {n}, \"pad\": \"{'x' * 80}\"}}"}
               for n in range(12)]
    rendering = render_kf([{"text": "开头"}, {"text": "请选择", "buttons": buttons}])
    (menu,) = rendering.items
    body = menu.body
    assert menu.msgtype == "msgmenu" and body["head_content"] == "开头\n\n请选择"
    assert len(body["list"]) == MAX_MENU_ITEMS
    for item in body["list"]:
        assert 0 < size(item["click"]["id"]) <= CLICK_ID_LIMIT_BYTES
        assert 0 < size(item["click"]["content"]) <= MENU_ITEM_LIMIT_BYTES
        assert rendering.menu[item["click"]["id"]].startswith("/inform")
    assert click_id(buttons[0]["payload"]) == body["list"][0]["click"]["id"]  # the same button, the same id


def test_a_text_too_long_for_the_menu_head_goes_first() -> None:
    button = [{"title": "好的", "payload": "/affirm"}]
    rendering = render_kf([{"text": "说明" * 300, "buttons": button}])  # 1800 bytes: over the head's 1024
    assert [i.msgtype for i in rendering.items] == ["text", "msgmenu"]
    assert "head_content" not in rendering.items[1].body and size(rendering.items[0].content) > MENU_HEAD_LIMIT_BYTES
    longer = render_kf([{"text": "说明" * 400, "buttons": button}])  # 2400 bytes: its tail heads the menu
    assert [i.msgtype for i in longer.items] == ["text", "msgmenu"]
    assert longer.items[0].content + longer.items[1].body["head_content"] == "说明" * 400


def test_the_handoff_payload_is_kept_and_never_shown() -> None:
    rendering = render_kf([{"text": "正在转接"}, {"custom": {"type": "handoff", "queue": "complaint",
                                                              "summary": "客户最近说: 投诉"}}])
    assert rendering.handoff.queue == "complaint" and [i.content for i in rendering.items] == ["正在转接"]


# --- sync_msg entries ----------------------------------------------------------------------------------
def test_sync_entries_parse_by_type() -> None:
    text = parse_entry({"msgid": "1", "open_kfid": "wk1", "external_userid": "wm1", "send_time": 5, "origin": 3,
                        "msgtype": "text", "text": {"content": "你好", "menu_id": "m1"}})
    assert (text.kind, text.text, text.menu_id, text.from_customer, text.sender_id) == (
        "text", "你好", "m1", True, "kf:wm1")
    enter = parse_entry({"msgid": "2", "msgtype": "event", "event": {
        "event_type": "enter_session", "open_kfid": "wk1", "external_userid": "wm1", "welcome_code": "W"}})
    assert (enter.kind, enter.welcome_code, enter.from_customer) == ("enter_session", "W", False)
    assert parse_entry({"msgid": "3", "open_kfid": "wk1", "external_userid": "wm1", "origin": 3,
                        "msgtype": "location"}).kind == "unsupported"
    for broken in ({"msgtype": "text"}, {"msgid": "4", "msgtype": "text", "open_kfid": "wk 1",
                                         "external_userid": "wm1"}, "text", None):
        assert parse_entry(broken) is None


# --- settings ----------------------------------------------------------------------------------------------
FULL = {"WECOM_CORP_ID": "ww1", "WECOM_KF_SECRET": "s", "WECOM_TOKEN": "t",
        "WECOM_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}


def test_settings_off_without_any_partly_set_is_an_error(caplog) -> None:
    caplog.set_level(logging.INFO)
    assert WeComKfSettings.from_env({}) is None and "微信客服渠道未启用" in caplog.text
    assert WeComKfSettings.from_env({**FULL, "WECOM_TOKEN": ""}) is None and "WECOM_TOKEN" in caplog.text
    assert WeComKfSettings.from_env({**FULL, "WECOM_AES_KEY": "short"}) is None
    settings = WeComKfSettings.from_env({**FULL, "WECOM_API_BASE": "http://127.0.0.1:9/"})
    assert settings.api_base == "http://127.0.0.1:9" and settings.servicer is None


# --- identity --------------------------------------------------------------------------------------------------
def test_only_a_verified_unionid_binding_spares_the_sms_code(db) -> None:
    service = LoanService(db)
    record_kf_customer(db, "wmZHAO", "u_demo_unionid_3579")  # 赵磊: bound with his verified 公众号 binding
    record_kf_customer(db, "wmLI", "u_demo_unionid_5678")  # 李娜: a binding only declared
    record_kf_customer(db, "wmNOBODY", None)
    assert service.strong_by_wecom_kf("kf:wmZHAO", "wmZHAO", "SQ202610300006") is True
    assert service.is_verified("kf:wmZHAO", "SQ202610300006", level="strong")
    assert service.strong_by_wecom_kf("kf:wmZHAO", "wmZHAO", "SQ202611180002") is False  # not his application
    assert service.strong_by_wecom_kf("kf:wmLI", "wmLI", "SQ202611180002") is False
    assert service.strong_by_wecom_kf("kf:wmNOBODY", "wmNOBODY", "SQ202611180002") is False


# --- outreach -------------------------------------------------------------------------------------------------
def test_a_notice_rule_naming_wecom_kf_is_refused_when_the_catalogue_loads() -> None:
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["outreach"]["notices"][0]["channels"] = ["wecom_kf", "sms"]
    with pytest.raises(Exception) as error:
        parse_catalogue(raw)
    assert "48 小时" in str(error.value) and "wecom_kf" in str(error.value)


class RecordingKf:
    name, private = "wecom_kf", True

    def __init__(self) -> None:
        self.sent: list = []

    def handles(self, kind: str) -> bool:
        return True

    def send(self, address: str, delivery) -> str:
        self.sent.append(address)
        return "kf:1"

    def find(self, *args):
        return None


def test_outreach_never_sends_a_notice_through_wecom_kf(db, monkeypatch) -> None:
    for name, value in FULL.items():
        monkeypatch.setenv(name, value)
    channels = default_channels(db)
    assert "wecom_kf" not in channels
    record_kf_customer(db, "wmZHAO", "u_demo_unionid_3579")
    with session_scope(db) as session:  # even a verified kf "contact point" someone added is never used
        customer_id = session.execute(select(Application.customer_id).where(
            Application.application_id == "SQ202610300006")).scalar_one()
        session.add(ContactPoint(customer_id=customer_id, channel="wecom_kf", address="wmZHAO", verified=True))
    kf = RecordingKf()
    at = datetime(2026, 12, 2, 9, 0, tzinfo=CHINA_TZ)  # 赵磊's T-1 reminder is due
    report = OutreachEngine(db, load_catalogue(), {**channels, "wecom_kf": kf}, Clock(at)).sweep()
    assert any(key.startswith("due_t1:SQ202610300006") for key in report.sent) and kf.sent == []


def test_what_the_channel_says_without_a_turn_is_compliant() -> None:
    """Texts the 微信客服 channel sends itself: image/voice/unsupported answers, the 5-message note, the welcome."""
    from connectors.wecom_kf import conversation
    from credit.compliance import check_text

    for text in (conversation.IMAGE_REPLY, conversation.VOICE_REPLY, conversation.UNSUPPORTED_REPLY,
                 conversation.EMPTY_TEXT, conversation.TURN_FAILED, conversation.WELCOME_TEXT, LIMIT_NOTE):
        assert check_text(text) == [], text
        assert size(text) <= MENU_HEAD_LIMIT_BYTES
