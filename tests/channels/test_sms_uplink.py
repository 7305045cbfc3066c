"""The SMS reply callback (上行短信) over real HTTP: the channel's own blueprint served by Sanic in this
process, a real seeded SQLite database, the real outreach engine afterwards.

Bodies are built by ``harness.tencent_sms.reply_payload``: NOT Tencent Cloud, the JSON its reply callback
is documented to POST (mobile, nationcode, text, sign, time, extend).  Nothing of ours is mocked.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanic import Sanic
from sqlalchemy import select

from connectors.http import ChannelError
from connectors.sms import TencentSmsUplinkInput
from connectors.sms.channel import UPLINK_PATH
from connectors.sms.config import UplinkSettings
from connectors.sms.uplink import UplinkService
from credit.catalogue.loader import load_catalogue
from credit.db.engine import session_scope
from credit.db.loans import Application, Customer
from credit.db.outreach import ContactPoint
from credit.db.sms import SmsOutbox
from credit.policy import CHINA_TZ
from harness.http import Response, http
from harness.procs import free_port
from harness.tencent_sms import reply_payload
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine
from tests.seeded import SEEDED

CAT = load_catalogue()
TOKEN = "test-sms-uplink-token-0123456789"
SIGN = "安信消费金融"
REPLIED = datetime(2026, 12, 2, 12, 0, tzinfo=CHINA_TZ)
OVERDUE = "SQ202609280007"  # first instalment due 11-28, unpaid: d7 falls on 12-05, the 报送征信前告知 on 12-21



@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch) -> None:
    """Several Sanic apps in one process: test mode keeps Sanic's start-up rewrite of its own methods
    (TouchUp) working from the original source each time."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@contextmanager
def serve(channel: TencentSmsUplinkInput, turns: List[Any]) -> Iterator[str]:
    """The channel's blueprint at /webhooks/sms_tencent on a Sanic server in a thread; its base URL."""

    async def on_new_message(message: Any) -> None:  # replies must never reach the dialogue
        turns.append(message)

    app = Sanic(f"sms_uplink_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/sms_tencent")
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: Dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
            await server.startup()
            await server.start_serving()
            holder["server"] = server
            ready.set()

        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, name="sms-uplink-sanic", daemon=True)
    thread.start()
    assert ready.wait(20), "Sanic did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        async def stop() -> None:
            await holder["server"].close()  # Sanic 21.12: a task that waits for the connections to close

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture()
def turns() -> List[Any]:
    return []


@pytest.fixture()
def base(db, turns) -> Iterator[str]:
    channel = TencentSmsUplinkInput(UplinkSettings(token=TOKEN), engine=db, now=lambda: REPLIED)
    with serve(channel, turns) as url:
        yield url


def post(base: str, body: Any = None, token: str | None = TOKEN, raw: bytes | None = None) -> Response:
    query = f"?token={token}" if token is not None else ""
    return http("POST", f"{base}{UPLINK_PATH}{query}", body, raw=raw, timeout=20)


def phone_of(db, app_id: str) -> str:
    with session_scope(db) as s:
        return s.execute(select(Customer.phone).join(Application).where(Application.application_id == app_id)
                         ).scalar_one()


def consent(db) -> Dict[tuple, tuple]:
    """(channel, address) -> (subscribed, changed_at) for every contact point."""
    with session_scope(db) as s:
        return {(p.channel, p.address): (p.subscribed, p.changed_at)
                for p in s.execute(select(ContactPoint)).scalars()}


def sms_texts_to(db, phone: str) -> List[str]:
    with session_scope(db) as s:
        return list(s.execute(select(SmsOutbox.text).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id))
                    .scalars())


def sweep_days(db, first: datetime, last: datetime) -> None:
    """The outreach engine at 10:00 every day in between (SMS to the outbox), as the scheduler would run it."""
    day = first
    while day <= last:
        OutreachEngine(db, CAT, {"sms": SmsChannel(db)}, lambda moment=day: moment, worker="w1").sweep()
        day += timedelta(days=1)


# --- 退订 / TD and 订阅 --------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["TD", "退订", "ｔｄ。"])
def test_td_unsubscribes_the_number_and_later_only_the_mandatory_notice_goes_by_sms(db, base, turns, word):
    phone = phone_of(db, OVERDUE)
    answer = post(base, reply_payload(phone, word, SIGN))
    assert answer.status == 200 and answer.json() == {"result": 0, "errmsg": "OK"}  # what Tencent expects
    points = consent(db)
    for channel in ("sms", "phone"):  # the same line: SMS and calls
        subscribed, changed_at = points[(channel, phone)]
        assert subscribed is False and changed_at == REPLIED
    assert all(subscribed for (_, address), (subscribed, _) in points.items() if address != phone)
    assert turns == []
    sweep_days(db, datetime(2026, 12, 3, 10, 0, tzinfo=CHINA_TZ), datetime(2026, 12, 21, 10, 0, tzinfo=CHINA_TZ))
    texts = sms_texts_to(db, phone)
    assert len(texts) == 1 and "征信业管理条例" in texts[0]  # 报送征信前告知 is required by law: it still comes


def test_subscribing_again_brings_the_reminders_back(db, base):
    phone = phone_of(db, OVERDUE)
    post(base, reply_payload(phone, "TD", SIGN))
    answer = post(base, reply_payload(phone, "订阅", SIGN))
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    assert consent(db)[("sms", phone)] == (True, REPLIED)
    sweep_days(db, datetime(2026, 12, 5, 10, 0, tzinfo=CHINA_TZ), datetime(2026, 12, 5, 10, 0, tzinfo=CHINA_TZ))
    assert any("已逾期7天" in t for t in sms_texts_to(db, phone))  # overdue_d7 goes out again


def test_an_unknown_number_or_any_other_text_changes_nothing_and_never_reaches_the_dialogue(db, base, turns, caplog):
    before = consent(db)
    third_party = "13900000001"  # an emergency contact: not a contact point of ours
    assert post(base, reply_payload(third_party, "TD", SIGN)).json() == {"result": 0, "errmsg": "OK"}
    phone = phone_of(db, OVERDUE)
    with caplog.at_level(logging.INFO, logger="connectors.sms.uplink"):
        answer = post(base, reply_payload(phone, f"好的收到，我的卡号是6222021234567890123，手机{phone}", SIGN))
    assert answer.status == 200 and answer.json() == {"result": 0, "errmsg": "OK"}
    assert post(base, reply_payload("4155550100", "TD", SIGN, nationcode="1")).status == 200
    assert consent(db) == before and turns == []
    logged = caplog.text
    assert "not routed to the dialogue" in logged
    assert phone not in logged and "6222021234567890123" not in logged and f"{phone[:3]}****{phone[-4:]}" in logged


# --- refusals: nothing changes ----------------------------------------------------------------------
def test_a_missing_or_wrong_token_is_refused(db, base):
    before = consent(db)
    body = reply_payload(phone_of(db, OVERDUE), "TD", SIGN)
    missing = post(base, body, token=None)
    assert missing.status == 401 and missing.json()["error"]["code"] == "missing_token"
    wrong = post(base, body, token="x" + TOKEN)
    assert wrong.status == 403 and wrong.json()["error"]["message_zh"] == "回调令牌不正确"
    assert consent(db) == before


@pytest.mark.parametrize("raw,code", [
    (b"{not json", "malformed_json"),
    (b"\xff\xfe", "malformed_json"),
    (b"[]", "wrong_type"),
    (json.dumps({"mobile": "13800009753", "nationcode": "86", "sign": SIGN, "time": 1}).encode(), "bad_field"),
    (json.dumps({"mobile": 13800009753, "nationcode": "86", "text": "TD", "sign": SIGN, "time": 1}).encode(),
     "bad_field"),
    (json.dumps({"mobile": "13800009753", "nationcode": "86", "text": "TD", "sign": SIGN, "time": "x"}).encode(),
     "bad_field"),
])
def test_malformed_bodies_are_a_clear_400_and_change_nothing(db, base, raw, code):
    before = consent(db)
    answer = post(base, raw=raw)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and error["message_zh"]
    assert consent(db) == before


def test_an_oversized_body_is_413_and_changes_nothing(db, base):
    before = consent(db)
    body = reply_payload(phone_of(db, OVERDUE), "TD" + " " * 20_000, SIGN)
    answer = post(base, body)
    assert answer.status == 413 and "16384" in answer.json()["error"]["message"]
    assert consent(db) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300),
                      st.dictionaries(st.sampled_from(["mobile", "nationcode", "text", "sign", "time", "extend"]),
                                      st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans()))
                      .map(lambda d: json.dumps(d).encode())))
def test_random_bodies_are_only_ever_answered_or_refused_with_4xx(db, body):
    service = UplinkService(UplinkSettings(token=TOKEN), engine=db, now=lambda: REPLIED)
    try:
        assert service.handle(body, TOKEN) == {"result": 0, "errmsg": "OK"}
    except ChannelError as error:
        assert 400 <= error.status < 500


# --- configuration --------------------------------------------------------------------------------
def test_without_a_token_the_route_is_off_with_a_clear_message(turns):
    assert UplinkSettings.from_env({}) is None
    assert UplinkSettings.from_env({"SMS_UPLINK_TOKEN": "short"}) is None  # guessable: refused
    assert UplinkSettings.from_env({"SMS_UPLINK_TOKEN": TOKEN}) == UplinkSettings(token=TOKEN)
    with serve(TencentSmsUplinkInput(None), turns) as url:
        answer = post(url, {"mobile": "13800009753"})
        assert answer.status == 404 and "SMS_UPLINK_TOKEN" in answer.json()["error"]["message_zh"]
        assert http("GET", f"{url}/webhooks/sms_tencent/").json() == {"status": "disabled"}


@pytest.mark.parametrize(("text", "intent"), [
    ("TD", "opt_out"), ("ｔｄ", "opt_out"), ("退订", "opt_out"), ("请帮我退订", "opt_out"),
    ("不要再给我发了", "opt_out"),
    ("订阅", "opt_in"), ("恢复提醒", "opt_in"),
    ("我不想退订", None), ("退订了会怎样", None), ("退订吗", None), ("怎么还", None), ("", None)])
def test_only_a_request_to_stop_is_read_as_one(text, intent):
    from credit.outreach.consent import consent_intent

    assert consent_intent(text) == intent


def test_a_rating_answering_a_closed_tickets_follow_up_sms_is_recorded_on_that_ticket(db, base, turns):
    from credit.db.tickets import TicketOutcome
    from credit.service import LoanService
    from credit.tickets.records import close_ticket

    ticket = LoanService(db, clock=lambda: SEEDED).create_ticket("rest:sms-rating", "complaint", "放款太慢了",
                                                                 application_id=OVERDUE)
    closed = datetime(2026, 12, 2, 10, 0, tzinfo=CHINA_TZ)
    close_ticket(db, ticket.number, "已加急处理", "ops-test", closed)
    OutreachEngine(db, CAT, {"sms": SmsChannel(db)}, lambda: closed + timedelta(minutes=5), worker="w1").sweep()
    phone = phone_of(db, OVERDUE)
    assert any("已办结" in t for t in sms_texts_to(db, phone))
    assert post(base, reply_payload(phone, "4分", SIGN)).json() == {"result": 0, "errmsg": "OK"}
    assert post(base, reply_payload("13800001234", "5分", SIGN)).status == 200  # another number: not its ticket
    with session_scope(db) as s:
        outcome = s.execute(select(TicketOutcome).where(TicketOutcome.resolution.is_not(None))).scalar_one()
    assert outcome.satisfaction == 4 and turns == []
