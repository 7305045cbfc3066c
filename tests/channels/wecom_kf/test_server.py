"""微信客服 end to end: the assistant's own stack (harness.stacks: action server, Rasa server, SQLite
databases) with WeCom played by a local stand-in (harness.wecom_api) that speaks WeCom's documented wire
format: gettoken, kf/sync_msg with cursors and has_more, kf/send_msg with 95001/95002, send_msg_on_event,
service_state, customer/batchget, and the encrypted kf_msg_or_event callback it posts to the channel.

The business clock reads 10:30 Beijing time (agents on duty) so the handoff goes to a person."""
from __future__ import annotations

import re
import threading
import time
import urllib.parse
import uuid
from typing import Iterator, List

import pytest
from sqlalchemy import create_engine, text
from wechatpy.utils import WeChatSigner

from connectors.wecom_kf.ledger import FINISHED
from harness.http import http
from harness.stacks import Assistant, AssistantStack
from harness.wecom_api import WeComKfStandIn
from tests.channels.http_util import assert_clean_error, user_texts
from tests.conftest import RASA_TOKEN, START_TIMEOUT_S, TEST_ENV

pytestmark = pytest.mark.slow

PATH = "/webhooks/wecom_kf/webhook"


@pytest.fixture(scope="module")
def kf_stack(model_path, tmp_path_factory) -> Iterator[AssistantStack]:
    api = WeComKfStandIn()
    workdir = tmp_path_factory.mktemp("kf")
    env = {**TEST_ENV, "WECHAT_TOKEN": "", "WECOM_API_BASE": api.start(), "WECOM_LEASE_S": "3",
           "HARDENING_MODE": "development", "CREDIT_FAKE_NOW": "2026-12-01T10:30:00+08:00",
           "CHANNEL_STATE_DB": str(workdir / "channel_state.db")}
    stack = AssistantStack(model_path, env, token=RASA_TOKEN, workdir=workdir, wecom_api=api,
                           start_timeout=START_TIMEOUT_S)
    try:
        yield stack.start()
    finally:
        stack.stop()
        api.stop()


@pytest.fixture(scope="module")
def kf(kf_stack) -> Assistant:
    return kf_stack.assistant


@pytest.fixture
def user() -> str:
    return "wm" + uuid.uuid4().hex[:24]


def finished(assistant: Assistant, msgid: str, timeout: float = 90.0) -> str:
    """The channel's outcome for a pulled message (done / human / skipped / failed), once it has one."""
    engine = create_engine(assistant.db_url())
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(text("SELECT status FROM wecom_kf_inbox WHERE msgid = :m"), {"m": msgid}).first()
            if row and row[0] in FINISHED:
                return row[0]
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(f"message {msgid} not finished after {timeout}s")


def say(assistant: Assistant, user: str, content=None, **kwargs) -> List[str]:
    """The customer writes, WeCom calls back, the channel pulls and answers: what the customer then reads."""
    api = assistant.wecom_api
    before = len(api.sent_to(user))
    msgid = api.customer_sends(user, content, **kwargs)
    reply = api.notify(assistant.rasa_url + PATH)
    assert (reply.status, reply.text) == (200, "success")
    finished(assistant, msgid)
    return api.texts_to(user)[before:]


def rows(assistant: Assistant, sql: str, **params) -> list:
    engine = create_engine(assistant.db_url())
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).fetchall()
    finally:
        engine.dispose()


def test_callback_url_verification(kf) -> None:
    query = kf.wecom_api.verification("echo-from-wecom")
    reply = http("GET", f"{kf.rasa_url}{PATH}?{urllib.parse.urlencode(query)}")
    assert (reply.status, reply.text) == (200, "echo-from-wecom")
    forged = kf.wecom_api.verification("echo-from-wecom", token="not-our-token")
    bad = http("GET", f"{kf.rasa_url}{PATH}?{urllib.parse.urlencode(forged)}")
    assert bad.status == 403 and "echo-from-wecom" not in bad.text


def test_verification_progress_check_and_a_complaint(kf, user) -> None:
    assert "申请编号" in "".join(say(kf, user, "帮我查一下申请进度"))
    assert "身份证" in "".join(say(kf, user, "SQ202611200001"))
    progress = "".join(say(kf, user, "1234"))
    assert "审批中" in progress and "下一步" in progress
    complaint = "".join(say(kf, user, "我要投诉你们客服态度太差了，打电话还挂我电话"))
    assert "抱歉" in complaint and "手机号" in complaint
    number = re.search(r"TK\d+", "".join(say(kf, user, "13912345678"))).group(0)
    assert rows(kf, "SELECT kind FROM tickets WHERE number = :n AND sender_id = :s", n=number, s=f"kf:{user}") == [
        ("complaint",)]
    assert user_texts(kf, f"kf:{user}")[:3] == ["帮我查一下申请进度", "SQ202611200001", "1234"]
    assert all(len(m["text"]["content"].encode()) <= 2048 for m in kf.wecom_api.sent_to(user) if "text" in m)


def test_a_verified_unionid_binding_spares_the_sms_code_an_unverified_one_does_not(kf, user) -> None:
    kf.wecom_api.unionids[user] = "u_demo_unionid_3579"  # 赵磊, bound with his verified 公众号 binding
    say(kf, user, "提前还款要手续费吗")
    assert "申请编号" in "".join(say(kf, user, "好的"))
    say(kf, user, "SQ202610300006")
    details = "".join(say(kf, user, "3579"))
    assert "剩余本金" in details and "验证码" not in details
    other = user + "x"
    kf.wecom_api.unionids[other] = "u_demo_unionid_5678"  # 李娜: the binding was only declared
    say(kf, other, "提前还款要手续费吗")
    say(kf, other, "好的")
    say(kf, other, "SQ202611180002")
    asked = "".join(say(kf, other, "5678"))
    assert "验证码" in asked and "剩余本金" not in asked


def test_a_button_round_trip(kf, user) -> None:
    say(kf, user, "你好")
    menu = kf.wecom_api.sent_to(user)[-1]
    assert menu["msgtype"] == "msgmenu"
    item = next(i["click"] for i in menu["msgmenu"]["list"] if "进度" in i["click"]["content"])
    answer = "".join(say(kf, user, item["content"], menu_id=item["id"]))
    assert "申请编号" in answer
    assert user_texts(kf, f"kf:{user}") == ["你好", "/check_progress"]


def test_a_duplicate_callback_makes_one_turn(kf, user) -> None:
    api = kf.wecom_api
    msgid = api.customer_sends(user, "利息多少")
    calls = [threading.Thread(target=api.notify, args=(kf.rasa_url + PATH,)) for _ in range(3)]
    for call in calls:
        call.start()
    for call in calls:
        call.join(30)
    finished(kf, msgid)
    api.notify(kf.rasa_url + PATH)  # and once more afterwards
    time.sleep(1.0)
    assert user_texts(kf, f"kf:{user}") == ["利息多少"]
    ids = [m["msgid"] for m in api.sent_to(user)]  # one answer: ours are <one source>-0, -1, ...
    assert ids and {i.rsplit("-", 1)[0] for i in ids} == {ids[0].rsplit("-", 1)[0]}
    assert sorted(int(i.rsplit("-", 1)[1]) for i in ids) == list(range(len(ids)))
    assert "年化" in "".join(api.texts_to(user))


def test_window_expiry_and_the_five_message_limit(kf, user) -> None:
    api = kf.wecom_api
    assert say(kf, user, "利息多少", at=time.time() - 49 * 3600) == []  # read late: the 48 hours had passed
    held = rows(kf, "SELECT reason, status FROM wecom_kf_held WHERE external_userid = :u", u=user)
    assert held == [("window_expired", "recorded")]
    assert not [r for r in api.rejected if r == ("/cgi-bin/kf/send_msg", 95001)]  # enforced, never tried
    other = user + "y"
    msgid = api.customer_sends(other, "你好")
    api._sends_since[(api.open_kfid, other)] = 5  # the five were used meanwhile (another system of the lender)
    api.notify(kf.rasa_url + PATH)
    finished(kf, msgid)
    assert api.sent_to(other) == [] and ("/cgi-bin/kf/send_msg", 95002) in api.rejected
    assert rows(kf, "SELECT reason, status FROM wecom_kf_held WHERE external_userid = :u", u=other) == [
        ("limit", "waiting")]
    resumed = say(kf, other, "继续")  # the customer writes again: a new allowance, the held reply goes
    assert resumed and "小信" in resumed[0] and user_texts(kf, f"kf:{other}") == ["你好"]


def test_handoff_to_a_person_silence_and_the_return_to_the_bot(kf, user) -> None:
    api = kf.wecom_api
    transfer = "".join(say(kf, user, "帮我转人工客服"))
    assert "正在为您转接" in transfer and api.state(user) == 3
    summary = rows(kf, "SELECT summary FROM handoffs WHERE sender_id = :s", s=f"kf:{user}")
    assert summary and "渠道: kf" in summary[0][0]
    assert say(kf, user, "人呢？") == []  # a person holds the session: the bot is silent
    assert rows(kf, "SELECT status FROM wecom_kf_inbox WHERE external_userid = :u ORDER BY id", u=user)[-1] == (
        "human",)
    api.servicer_ends(user)
    assert "年化" in "".join(say(kf, user, "利息多少"))
    assert user_texts(kf, f"kf:{user}") == ["帮我转人工客服", "利息多少"] and api.state(user) == 1


def test_the_welcome_on_enter_session(kf, user) -> None:
    api = kf.wecom_api
    started = time.monotonic()
    code = api.customer_enters(user)
    assert api.notify(kf.rasa_url + PATH).status == 200
    deadline = time.monotonic() + 20
    while not api.sent_to(user) and time.monotonic() < deadline:
        time.sleep(0.05)
    (welcome,) = api.sent_to(user)
    assert welcome["on_event"] and welcome["code"] == code and time.monotonic() - started < 20
    assert "小信" in welcome["msgmenu"]["head_content"] and welcome["msgmenu"]["list"]


@pytest.mark.parametrize("forge", [{"token": "not-the-token"},
                                   {"aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
                                   {"corp_id": "wwSOMEONEELSE00000"}])
def test_forged_callbacks_get_clear_errors_and_lose_nothing(kf, user, forge) -> None:
    api = kf.wecom_api
    msgid = api.customer_sends(user, "利息多少")
    query, body = api.callback(**forge)
    reply = http("POST", f"{kf.rasa_url}{PATH}?{urllib.parse.urlencode(query)}", raw=body)
    assert_clean_error(reply)
    assert reply.status in (400, 403) and ("签名" in reply.text or "解密" in reply.text or "CorpID" in reply.text)
    time.sleep(0.5)
    assert user_texts(kf, f"kf:{user}") == []
    api.notify(kf.rasa_url + PATH)  # the genuine callback still finds the message
    finished(kf, msgid)
    assert user_texts(kf, f"kf:{user}") == ["利息多少"]


def signed_for(encrypt: str, token: str) -> dict:
    """A query signed for exactly this Encrypt value, so only what follows the signature can fail."""
    ts, nonce = str(int(time.time())), "n0nce"
    signer = WeChatSigner()
    signer.add_data(token, ts, nonce, encrypt)
    return {"msg_signature": signer.signature, "timestamp": ts, "nonce": nonce}


@pytest.mark.parametrize("encrypt,status", [
    ("not base64 at all", 400),  # signed right, cannot be decrypted
    ("QUJD" * 8, 400),  # base64, but not AES for our key
])
def test_undecryptable_bodies_get_400(kf, encrypt, status) -> None:
    body = f"<xml><ToUserName>x</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    query = signed_for(encrypt, TEST_ENV["WECOM_TOKEN"])
    reply = http("POST", f"{kf.rasa_url}{PATH}?{urllib.parse.urlencode(query)}", raw=body)
    assert_clean_error(reply)
    assert reply.status == status and "解密" in reply.text


@pytest.mark.parametrize("body,status", [
    (b"<xml><Encrypt>" + b"A" * (1024 * 1024) + b"</Encrypt></xml>", 413),
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>', 400),
    (b"\xff\xfe\x00garbage", 400),
    (b"", 400),
])
def test_hostile_bodies_get_clear_errors(kf, body, status) -> None:
    query, _ = kf.wecom_api.callback()
    reply = http("POST", f"{kf.rasa_url}{PATH}?{urllib.parse.urlencode(query)}", raw=body)
    assert_clean_error(reply)
    assert reply.status == status and "root:" not in reply.text


def test_a_restart_mid_sync_neither_loses_nor_replays(kf_stack, kf) -> None:
    """Last in the module: it kills the module's Rasa server mid-pull and starts another on the same databases."""
    api = kf.wecom_api
    account, customers = "wkRESTART0001", ["wmR" + uuid.uuid4().hex[:20] for _ in range(3)]
    asked = ["利息多少", "怎么还款", "你好"]
    msgids = [api.customer_sends(c, q, open_kfid=account) for q in asked for c in customers]  # 9, 2 a page
    api.page_size = 2
    first = kf  # the module's server; this test runs last and ends it
    try:
        api.hold_sync(2)  # the second page waits: the process dies while pulling
        assert api.notify(first.rasa_url + PATH, account).status == 200
        assert api.sync_held.wait(60)
        for msgid in msgids[:2]:
            finished(first, msgid)
        kf_stack.kill_server(first)
        api.release_sync()
        second = kf_stack.add_server({"WECOM_LEASE_S": "3"})  # pulls the known accounts at start
        for msgid in msgids:
            finished(second, msgid)
    finally:
        api.page_size = 1000
    for customer in customers:
        assert user_texts(second, f"kf:{customer}") == asked  # each once, in order
        sent_ids = [m["msgid"] for m in api.sent_to(customer)]
        assert len(sent_ids) == len(set(sent_ids)) and len(sent_ids) >= len(asked)
