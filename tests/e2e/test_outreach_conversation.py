"""Outreach end to end on a running assistant with an injected clock (``CREDIT_FAKE_NOW``, development
mode): the engine sweeps the real loan database, delivers through the WeChat stand-in and the SMS
outbox, writes each WeChat notice into the customer's conversation through Rasa's external intent, and
the customer's later replies ("怎么还", "已经还了", "还不上了") are answered about that loan, also
after the conversation session has expired.

WeChat here is ``harness.wechat_api.WeChatApiStandIn``: NOT WeChat, a local server speaking the documented
wire format (token, template/send with the library templates' rules, custom/send); the customer's messages
reach the assistant's real WeChat webhook signed and encrypted as WeChat would send them.
"""
from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from sqlalchemy import select, update

from credit.catalogue.loader import load_catalogue
from credit.compliance import PRIVACY_NOTICE_SHORT
from credit.db.engine import get_engine, session_scope
from credit.db.loans import Application, Customer, Loan, LoanInstallment
from credit.db.outreach import EmergencyContact, OutreachAttempt, OutreachNotice, RepaymentRecord
from credit.db.sms import SmsOutbox
from credit.db.tickets import Ticket
from credit.policy import CHINA_TZ
from credit.seed import seed
from harness.stacks import Assistant, AssistantStack
from harness.wechat_api import WeChatApiStandIn
from outreach.channels import SmsChannel
from outreach.conversation import RasaConversations
from outreach.engine import OutreachEngine
from tests.channels.http_util import post
from tests.channels.wechat import sim as w

pytestmark = pytest.mark.slow

CAT = load_catalogue()
TOKEN = "outreach-token"
SEEDED = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)  # SQ202610300006's 1st instalment due 12-03, 0007's 11-28
T_MINUS_1 = datetime(2026, 12, 2, 10, 0, tzinfo=CHINA_TZ)
OPENID = "o_demo_openid_3579"  # 赵磊's bound WeChat
CONVERSATION = f"wx:{OPENID}"
REMINDED, OVERDUE = "SQ202610300006", "SQ202609280007"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def world(model_path: Path, tmp_path_factory) -> Iterator[Tuple[Assistant, WeChatApiStandIn, object]]:
    from connectors.state import StateStore
    from connectors.wechat.config import WeChatSettings
    from outreach.wechat import WechatTemplateChannel, load_templates

    workdir = tmp_path_factory.mktemp("outreach")
    templates = load_templates()
    wechat_api = WeChatApiStandIn(templates={spec.template_id: tuple(spec.data) for spec in templates.values()})
    base = wechat_api.start()
    env = {"RASA_AUTH_TOKEN": TOKEN, "HARDENING_MODE": "development",
           "CREDIT_FAKE_NOW": T_MINUS_1.isoformat(), "WECHAT_TOKEN": w.TOKEN, "WECHAT_APP_ID": w.APP_ID,
           "WECHAT_APP_SECRET": wechat_api.app_secret, "WECHAT_AES_KEY": w.AES_KEY, "WECHAT_API_BASE": base,
           "CHANNEL_STATE_DB": str(workdir / "channel_state.db")}
    stack = AssistantStack(model_path, env, token=TOKEN, workdir=workdir, wechat_api=wechat_api)
    try:
        stack.start()
        assert stack.assistant is not None
        db = get_engine(stack.assistant.db_url())
        seed(db, now=SEEDED, reset=True)  # the demo loans relative to the test's moment
        settings = WeChatSettings(token=w.TOKEN, app_id=w.APP_ID, app_secret=wechat_api.app_secret, api_base=base)
        wechat = WechatTemplateChannel(settings, StateStore(str(workdir / "engine_state.db")), templates)
        channels = {"wechat": wechat, "sms": SmsChannel(db)}
        yield stack.assistant, wechat_api, (db, channels)
        db.dispose()
    finally:
        stack.stop()
        wechat_api.stop()


def engine_at(world, at: datetime, worker: str = "e2e") -> OutreachEngine:
    assistant, _, (db, channels) = world
    return OutreachEngine(db, CAT, channels, Clock(at), worker=worker,
                          conversations=RasaConversations(assistant.rasa_url, TOKEN))


def wechat_says(assistant: Assistant, text: str) -> str:
    request = w.safe_request(w.text_xml(OPENID, text))
    answer = post(request.url(assistant.rasa_url), request.body, {"Content-Type": "text/xml"})
    assert answer.status == 200
    return w.open_reply(answer.text).get("Content", "")


def events(assistant: Assistant, sender_id: str) -> List[Dict]:
    url = f"{assistant.rasa_url}/conversations/{sender_id}/tracker?token={TOKEN}&include_events=ALL"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["events"]


def age_conversation(assistant: Assistant, sender_id: str, hours: float) -> None:
    """Move every event of the conversation back in time in the real tracker store, as if the customer
    came back ``hours`` later (Rasa expires sessions by the events' timestamps)."""
    shift = hours * 3600
    with sqlite3.connect(assistant.workdir / "tracker.db") as conn:
        conn.execute("UPDATE events SET timestamp = timestamp - ?, "
                     "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - ?) "
                     "WHERE sender_id = ?", (shift, shift, sender_id))


def test_a_t1_reminder_goes_out_as_a_template_and_appears_in_the_conversation_without_a_second_delivery(world):
    assistant, wechat_api, (db, _) = world
    report = engine_at(world, T_MINUS_1).sweep()
    key = f"due_t1:{REMINDED}:p1"
    assert key in report.sent
    [template] = wechat_api.templates_to(OPENID)
    assert template["client_msg_id"] == key and template["data"]["time3"]["value"] == "2026年12月3日"
    assert wechat_api.messages_to(OPENID) == []  # written into the conversation, not sent again
    bot = [e.get("text") or "" for e in events(assistant, CONVERSATION) if e.get("event") == "bot"]
    assert len(bot) == 1 and "尾号0006" in bot[0] and "明天（12月3日）" in bot[0]
    assert PRIVACY_NOTICE_SHORT not in "".join(bot)  # nobody wrote: nothing is said as if they had
    with session_scope(db) as s:
        outcomes = [a.outcome for a in s.execute(select(OutreachAttempt).join(OutreachNotice).where(
            OutreachNotice.key == key)).scalars()]
    assert outcomes == ["sent", "conversation"]
    assert engine_at(world, T_MINUS_1 + timedelta(minutes=10)).sweep().sent == []  # a second run sends nothing


def test_how_to_repay_is_answered_for_that_loan_after_the_session_has_expired(world):
    assistant, wechat_api, _ = world
    set_slot = json.dumps([{"event": "slot", "name": "complaint_count", "value": 1}]).encode()
    urllib.request.urlopen(urllib.request.Request(  # an earlier complaint in this conversation
        f"{assistant.rasa_url}/conversations/{CONVERSATION}/tracker/events?token={TOKEN}", data=set_slot,
        method="POST", headers={"Content-Type": "application/json"}), timeout=30).read()
    age_conversation(assistant, CONVERSATION, hours=3)
    reply = wechat_says(assistant, "怎么还")
    assert "尾号0006" in reply and "12月3日" in reply and "自动扣款" in reply, reply
    history = events(assistant, CONVERSATION)
    starts = [i for i, e in enumerate(history) if e.get("event") == "session_started"]
    assert len(starts) == 2  # the reply came in a new session
    latest = history[starts[-1]:]
    assert not any(PRIVACY_NOTICE_SHORT in (e.get("text") or "") for e in latest if e.get("event") == "bot")
    carried = [e for e in latest if e.get("event") == "slot" and e.get("name") == "complaint_count"]
    assert carried and carried[-1]["value"] == 1  # the complaint counter survives the new session


def test_already_paid_is_checked_against_the_records(world):
    assistant, _, (db, _) = world
    assert "还没查到" in wechat_says(assistant, "我已经把钱存到卡里了")
    with session_scope(db) as s:  # the instalment is paid meanwhile
        loan_id = s.execute(select(Loan.id).where(Loan.application_id == REMINDED)).scalar_one()
        s.execute(update(LoanInstallment).where(LoanInstallment.loan_id == loan_id, LoanInstallment.period == 1)
                  .values(paid=True))
        s.add(RepaymentRecord(loan_id=loan_id, period=1, kind="manual", result="success", amount=1,
                              at=T_MINUS_1 + timedelta(hours=1)))
    reply = wechat_says(assistant, "已经还了")
    assert "已经还清" in reply and "尾号0006" in reply, reply


def test_cannot_pay_opens_the_negotiation_ticket_for_that_loan(world):
    assistant, _, (db, _) = world
    reply = wechat_says(assistant, "这个月还不上了")
    assert "协商" in reply and "TK" in reply, reply
    again = wechat_says(assistant, "真的还不上，手头有点困难")  # said again: the same ticket, not a second one
    number = re.search(r"TK\d+", reply).group(0)
    assert number in again and "已经登记" in again, again
    with session_scope(db) as s:
        rows = s.execute(select(Ticket.kind, Ticket.application_id).where(Ticket.sender_id == CONVERSATION)).all()
    assert [tuple(r) for r in rows].count(("negotiation", REMINDED)) == 1


def test_deduction_failed_goes_to_the_sms_outbox_and_never_to_an_emergency_contact(world):
    _, _, (db, _) = world
    with session_scope(db) as s:  # the morning's retry of 孙丽's overdue instalment fails again
        loan_id = s.execute(select(Loan.id).where(Loan.application_id == OVERDUE)).scalar_one()
        s.add(RepaymentRecord(loan_id=loan_id, period=1, kind="auto_debit", result="failed", amount=1,
                              reason="余额不足", at=datetime(2026, 12, 3, 6, 0, tzinfo=CHINA_TZ)))
    report = engine_at(world, datetime(2026, 12, 3, 10, 0, tzinfo=CHINA_TZ), worker="e2e-2").sweep()
    assert any(k.startswith(f"deduction_failed:{OVERDUE}:") for k in report.sent), report
    with session_scope(db) as s:
        phone = s.execute(select(Customer.phone).join(Application).where(
            Application.application_id == OVERDUE)).scalar_one()
        texts = [r.text for r in s.execute(select(SmsOutbox).where(SmsOutbox.phone == phone)).scalars()]
        emergency = {e.phone for e in s.execute(select(EmergencyContact)).scalars()}
        every_number = {r.phone for r in s.execute(select(SmsOutbox)).scalars()}
    assert any("自动扣款未成功" in t for t in texts)
    assert emergency and not emergency & every_number


def test_nothing_goes_out_at_2230_beijing_and_it_goes_out_at_8(world):
    _, wechat_api, (db, _) = world
    late = datetime(2026, 12, 3, 22, 30, tzinfo=CHINA_TZ)  # due day evening: held, nothing sent
    with session_scope(db) as s:  # a fresh event at night: 王芳's application is declined at 22:20
        s.execute(update(Application).where(Application.application_id == "SQ202611150003")
                  .values(stage="declined", stage_updated_at=late - timedelta(minutes=10)))
    held = engine_at(world, late).sweep()
    assert held.sent == [] and any(k.startswith("application_declined:") for k in held.held)
    morning = engine_at(world, datetime(2026, 12, 4, 8, 0, tzinfo=CHINA_TZ)).sweep()
    assert any(k.startswith("application_declined:") for k in morning.sent)


def test_the_closed_ticket_is_followed_up_and_the_rating_is_recorded_not_taken_as_a_complaint(world):
    from credit.db.tickets import TicketOutcome
    from credit.tickets.records import close_ticket

    assistant, wechat_api, (db, _) = world
    with session_scope(db) as s:
        number = s.execute(select(Ticket.number).where(Ticket.sender_id == CONVERSATION,
                                                       Ticket.kind == "negotiation")).scalar_one()
    closed = datetime(2026, 12, 4, 9, 0, tzinfo=CHINA_TZ)
    close_ticket(db, number, "已与客户商定分两次还清", "ops-e2e", closed)
    report = engine_at(world, closed + timedelta(minutes=5), worker="e2e-3").sweep()
    assert f"ticket_followup:{number}" in report.sent
    assert wechat_api.templates_to(OPENID)[-1]["client_msg_id"] == f"ticket_followup:{number}"
    unhappy = wechat_says(assistant, "不满意")
    assert "没能让您满意" in unhappy and "投诉" not in unhappy.split("。")[0], unhappy
    happy = wechat_says(assistant, "5分")
    assert "谢谢您的评价" in happy
    with session_scope(db) as s:
        outcome = s.execute(select(TicketOutcome).join(Ticket).where(Ticket.number == number)).scalar_one()
        tickets = s.execute(select(Ticket.kind).where(Ticket.sender_id == CONVERSATION)).scalars().all()
    assert outcome.satisfaction == 5 and outcome.answered_at is not None
    assert "complaint" not in tickets  # a rating is not a complaint
    slots = [e for e in events(assistant, CONVERSATION) if e.get("event") == "slot" and e.get("name") ==
             "complaint_count"]
    assert slots[-1]["value"] == 1  # unchanged since the earlier complaint


def test_after_td_nothing_more_is_sent_on_that_channel_except_the_notice_the_law_requires(world):
    from credit.db.outreach import ContactPoint
    from credit.outreach.consent import set_subscription

    assistant, wechat_api, (db, _) = world
    confirmed = wechat_says(assistant, "TD")
    assert "退订" in confirmed and "征信" in confirmed, confirmed  # says what still comes
    with session_scope(db) as s:
        point = s.execute(select(ContactPoint).where(ContactPoint.address == OPENID)).scalar_one()
        phone = s.execute(select(Customer.phone).join(Application).where(
            Application.application_id == REMINDED)).scalar_one()
    assert point.subscribed is False
    # and the number too (SMS and calls), as an SMS 退订 through the uplink does (tests/channels/test_sms_uplink.py)
    set_subscription(db, "sms", phone, "opt_out", datetime(2026, 12, 5, 9, 0, tzinfo=CHINA_TZ))
    templates_before = len(wechat_api.templates_to(OPENID))
    reminder = engine_at(world, datetime(2026, 12, 31, 10, 0, tzinfo=CHINA_TZ), worker="e2e-4").sweep()
    assert f"due_t3:{REMINDED}:p2" in reminder.suppressed and not [k for k in reminder.sent if REMINDED in k]
    legal = engine_at(world, datetime(2027, 1, 26, 10, 0, tzinfo=CHINA_TZ), worker="e2e-4").sweep()
    assert f"credit_report_notice:{REMINDED}:p2" in legal.sent
    with session_scope(db) as s:
        texts = [r.text for r in s.execute(select(SmsOutbox).where(SmsOutbox.phone == phone)).scalars()]
    assert len(texts) == 1 and "征信业管理条例" in texts[0]
    assert len(wechat_api.templates_to(OPENID)) == templates_before  # WeChat: nothing after TD
