"""Acceptance of issue 12, "Phone: an outbound call", on a running assistant with the trained dialogue:
an overdue day-1 call places TwiML that validates and is in Chinese, and reads no loan detail before the
person who answered is verified.

The outreach engine sweeps the stack's loan database at day 1 of the overdue instalment (10:00 Beijing;
the stack's business clock is set there with ``CREDIT_FAKE_NOW``, development mode) and places the call
through the official ``twilio`` library against ``harness.twilio_api.TwilioApiStandIn`` — NOT Twilio, a
local server speaking Twilio's documented wire format — which then "answers" it: it requests the call's
Url on the assistant's real ``twilio_zh`` webhook, signed as Twilio signs, and keys digits into the
``<Gather>`` the assistant returned.
"""
from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from sqlalchemy import select

from credit.catalogue.loader import load_catalogue
from credit.db.engine import get_engine, session_scope
from credit.db.loans import Application, Customer, Loan, LoanInstallment
from credit.db.outreach import EmergencyContact, OutreachNotice
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.text.speech import to_speech
from harness.http import http_json
from harness.rasa import tracker_path
from harness.stacks import Assistant, AssistantStack
from harness.twilio_api import TwilioApiStandIn
from outreach.channels import Delivery, SmsChannel
from outreach.engine import OutreachEngine
from outreach.phone import TwilioCallChannel, TwilioCallSettings

pytestmark = pytest.mark.slow

CAT = load_catalogue()
TOKEN = "outreach-call-token"
SEEDED = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)  # as tests/unit/outreach/test_outreach.py
OVERDUE, LAST4 = "SQ202609280007", "9753"
KEY = f"overdue_d1:{OVERDUE}:p1"
CALLER = "+15005550006"  # our Twilio number
TWILIO_VERBS = {"Response", "Say", "Gather", "Redirect", "Hangup", "Dial", "Number", "Play", "Pause"}
ASCII_DIGIT = re.compile(r"[0-9]")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def day_one(db) -> datetime:
    with session_scope(db) as s:
        due = s.execute(select(LoanInstallment.due_date).join(Loan).where(
            Loan.application_id == OVERDUE, LoanInstallment.period == 1)).scalar_one()
    return datetime.combine(due + timedelta(days=1), time(10, 0), tzinfo=CHINA_TZ)


def sweep_moment(tmp: Path) -> datetime:
    """Day 1 of the overdue instalment when the demo records are seeded at SEEDED."""
    scratch = get_engine(f"sqlite:///{tmp / 'scratch.db'}")
    try:
        seed(scratch, now=SEEDED, reset=True)
        return day_one(scratch)
    finally:
        scratch.dispose()


@pytest.fixture(scope="module")
def calls(model_path: Path, tmp_path_factory) -> Iterator[Tuple[Assistant, TwilioApiStandIn, object, object]]:
    workdir = tmp_path_factory.mktemp("outreach_call")
    moment = sweep_moment(workdir)
    twilio = TwilioApiStandIn(auth_token="e2e-twilio-token", caller_ids=[CALLER], clock=Clock(moment))
    base = twilio.start()
    env = {"RASA_AUTH_TOKEN": TOKEN, "HARDENING_MODE": "development", "CREDIT_FAKE_NOW": moment.isoformat(),
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_AGENT_NUMBER": "+8640082088200",
           "CHANNEL_STATE_DB": str(workdir / "channel_state.db")}
    stack = AssistantStack(model_path, env, token=TOKEN, workdir=workdir)
    try:
        stack.start()
        assert stack.assistant is not None
        db = get_engine(stack.assistant.db_url())
        seed(db, now=SEEDED, reset=True)  # the demo loans relative to the test's moment
        assert day_one(db) == moment
        # Twilio requests the Url it was given: the assistant's own address (no proxy in between)
        settings = TwilioCallSettings(twilio.account_sid, twilio.auth_token, CALLER, stack.assistant.rasa_url, base)
        channel = TwilioCallChannel(settings, CAT, db=db)
        yield stack.assistant, twilio, db, OutreachEngine(db, CAT, {"phone": channel, "sms": SmsChannel(db)},
                                                          Clock(moment), worker="e2e")
        db.dispose()
    finally:
        stack.stop()
        twilio.stop()


def spoken(twiml: str) -> str:
    return "".join(s.text or "" for s in ET.fromstring(twiml).iter("Say"))


def assert_valid_mandarin_twiml(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)
    assert root.tag == "Response" and {el.tag for el in root.iter()} <= TWILIO_VERBS, twiml
    says = list(root.iter("Say"))
    assert says and all(s.get("language", "").startswith(("zh", "cmn")) and s.get("voice") for s in says)
    text = "".join(s.text or "" for s in says)
    assert re.search(r"[\u4e00-\u9fff]", text) and not ASCII_DIGIT.search(text) and "http" not in text
    gather = root.find("Gather")
    if gather is not None:
        assert gather.get("language", "").startswith(("zh", "cmn")) and "dtmf" in gather.get("input", "")
    return root


def loan_detail(db) -> List[str]:
    """Ways the loan's detail could be read out: its tail, the amount due, the due date's words."""
    with session_scope(db) as s:
        row = s.execute(select(OutreachNotice).where(OutreachNotice.key == KEY)).scalar_one()
        fields: Dict[str, str] = json.loads(row.fields)
    tail = fields["loan_tail"]
    return [tail, to_speech(f"尾号{tail}").replace("尾号", ""), fields["amount"], to_speech(f"¥{fields['amount']}"),
            "应还", "还款日", "逾期"]


def user_events(assistant: Assistant, sender_id: str) -> List[Dict]:
    tracker = http_json("GET", f"{assistant.rasa_url}{tracker_path(sender_id)}?token={TOKEN}")
    return [e for e in tracker["events"] if e.get("event") == "user"]


def test_an_overdue_day_one_call_is_mandarin_twiml_and_reads_no_loan_detail_before_verification(calls):
    assistant, twilio, db, engine = calls
    report = engine.sweep()
    assert KEY in report.sent
    with session_scope(db) as s:
        placed = s.execute(select(OutreachNotice).where(OutreachNotice.key == KEY)).scalar_one()
        own = s.execute(select(Customer.phone).join(Application).where(
            Application.application_id == OVERDUE)).scalar_one()
        third_parties = {"+86" + p for p in s.execute(select(EmergencyContact.phone)).scalars()}
    [call] = twilio.calls  # one call, to the borrower's own number
    assert call.resource["to"] == "+86" + own and call.resource["to"] not in third_parties
    assert placed.channel == "phone" and placed.vendor_ref == f"twilio:{call.resource['sid']}"
    sid = call.resource["sid"]

    first = twilio.answer(sid)
    root = assert_valid_mandarin_twiml(first)
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "4"  # the ID card's last four digits
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(gather.get("action")).query)["notice"] == [str(placed.id)]
    opening = spoken(first)
    assert "核实" in opening
    for detail in loan_detail(db):
        assert detail not in opening, (detail, opening)
    sender = f"tel:notice-{placed.id}"
    [external] = user_events(assistant, sender)
    assert external["parse_data"]["intent"]["name"] == "EXTERNAL_outreach_notice"

    verified = twilio.press(sid, LAST4)
    assert_valid_mandarin_twiml(verified)
    detail = spoken(verified)
    assert "应还" in detail and "听还款方式请按一" in detail and "转人工请按零" in detail
    assert [e.get("text") for e in user_events(assistant, sender)][1:] == [LAST4]

    repay = twilio.press(sid, "1")
    assert_valid_mandarin_twiml(repay)
    assert "还款" in spoken(repay) and user_events(assistant, sender)[-1].get("text") == "/ask_repayment"
    assert twilio.hang_up(sid)[0] == 200
    assert engine.sweep().sent == [] and len(twilio.calls) == 1  # nothing is called twice


def test_wrong_digits_read_no_loan_detail(calls):
    assistant, twilio, db, engine = calls
    with session_scope(db) as s:  # a second placed call about the same loan (as a retry on another day would be)
        first = s.execute(select(OutreachNotice).where(OutreachNotice.key == KEY)).scalar_one()
        second = OutreachNotice(key=f"{KEY}:again", kind=first.kind, customer_id=first.customer_id,
                                subject=first.subject, period=first.period, due_at=first.due_at, status="sent",
                                fields=first.fields, channel="phone", contact_point_id=first.contact_point_id,
                                claimed_at=engine.clock(), sent_at=engine.clock(), created_at=engine.clock())
        s.add(second)
    phone = engine.channels["phone"]
    with session_scope(db) as s:
        own = s.execute(select(Customer.phone).join(Application).where(
            Application.application_id == OVERDUE)).scalar_one()
    ref = phone.send(own, Delivery(second.id, second.key, second.kind, json.loads(second.fields), ""))
    sid = ref.split(":", 1)[1]
    opening = twilio.answer(sid)
    wrong = twilio.press(sid, "0000" if LAST4 != "0000" else "1111")
    for twiml in (opening, wrong):
        assert_valid_mandarin_twiml(twiml)
        for detail in loan_detail(db):
            assert detail not in spoken(twiml), (detail, spoken(twiml))
