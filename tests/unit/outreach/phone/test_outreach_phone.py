"""Outbound calls (issue 12, "Phone: an outbound call") on a real SQLite database with an injected clock.

* Twilio (the reference): against ``harness.twilio_api.TwilioApiStandIn`` — NOT Twilio, a local server
  speaking Twilio's documented wire format — through the official ``twilio`` library: one call per
  notice, to the borrower's own number in E.164, its Url carrying the notice id; reconciliation after a
  crash; refusals retried then given up.
* The JSON IVR platform (production): against a stand-in of the platform's side of
  ``POST /outbound-calls`` in ``docs/ivr-openapi.yaml`` (below): requests valid against the spec,
  signed, idempotent on ``request_id``.
* The answered call, in process: the real ``twilio_zh`` and ``ivr`` webhooks (Sanic app over ASGI, no
  sockets) with the signature check; hostile ``notice`` values get a goodbye and no dialogue; a real
  notice opens with the external intent.  The dialogue model is not needed: Rasa's agent is stood in
  for by :class:`RasaStandIn`, which answers as the ``EXTERNAL_outreach_notice`` contract says (the
  end-to-end test with the trained model is ``tests/e2e/test_outreach_call.py``).
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import jsonschema
import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from connectors.http import ChannelError
from connectors.ivr import signature as ivr_signature
from connectors.render import assign_digits, render_voice, render_wechat
from connectors.twilio_zh.config import TwilioSettings
from connectors.twilio_zh.twiml import render_twiml
from connectors.voice.engine import CallState, VoiceEngine
from credit.catalogue.loader import load_catalogue
from credit.db.engine import session_scope
from credit.db.loans import Application, Customer, Loan, LoanInstallment
from credit.db.outreach import EmergencyContact, OutreachAttempt, OutreachNotice
from credit.policy import CHINA_TZ
from harness.paths import ROOT as PROJECT_ROOT
from harness.twilio_api import TwilioApiStandIn
from outreach.channels import Delivery, SmsChannel
from outreach.engine import OutreachEngine, render
from outreach.phone import (
    IvrCallChannel,
    IvrCallSettings,
    TwilioCallChannel,
    TwilioCallSettings,
    e164,
)
from tests.channels.openapi_util import OpenApi
from tests.seeded import Clock

CAT = load_catalogue()
OVERDUE = "SQ202609280007"
KEY = f"overdue_d1:{OVERDUE}:p1"
PUBLIC = "https://bot.example.com"
CALLER = "+15005550006"  # our Twilio number
ROOT = PROJECT_ROOT
SPEC = OpenApi(ROOT / "docs" / "ivr-openapi.yaml")
OUTBOUND = "/outbound-calls"
TWILIO_VERBS = {"Response", "Say", "Gather", "Redirect", "Hangup", "Dial", "Number", "Play", "Pause"}




def sweep_time(db) -> datetime:
    """Day 1 after the overdue instalment's due day, 10:00 Beijing."""
    with session_scope(db) as s:
        due = s.execute(select(LoanInstallment.due_date).join(Loan).where(
            Loan.application_id == OVERDUE, LoanInstallment.period == 1)).scalar_one()
    return datetime.combine(due + timedelta(days=1), time(10, 0), tzinfo=CHINA_TZ)


def borrower_phone(db) -> str:
    with session_scope(db) as s:
        return s.execute(select(Customer.phone).join(Application).where(
            Application.application_id == OVERDUE)).scalar_one()


def notice(db, key: str = KEY) -> OutreachNotice:
    with session_scope(db) as s:
        return s.execute(select(OutreachNotice).where(OutreachNotice.key == key)).scalar_one()


def outcomes(db, key: str = KEY) -> List[str]:
    with session_scope(db) as s:
        return [a.outcome for a in s.execute(select(OutreachAttempt).join(OutreachNotice).where(
            OutreachNotice.key == key).order_by(OutreachAttempt.id)).scalars()]


def make(db, clock: Clock, phone: Any, worker: str = "w1") -> OutreachEngine:
    return OutreachEngine(db, CAT, {"phone": phone, "sms": SmsChannel(db)}, clock, worker=worker)


@pytest.fixture()
def clock(db) -> Clock:
    return Clock(sweep_time(db))


@pytest.fixture()
def twilio(clock):
    stand_in = TwilioApiStandIn(caller_ids=[CALLER], clock=clock)
    base = stand_in.start()
    yield stand_in, base
    stand_in.stop()


def twilio_channel(stand_in: TwilioApiStandIn, base: str, db=None, token: Optional[str] = None) -> TwilioCallChannel:
    settings = TwilioCallSettings(stand_in.account_sid, token or stand_in.auth_token, CALLER, PUBLIC, base)
    return TwilioCallChannel(settings, CAT, db=db)


# ------------------------------------------------------------------------------ Twilio: placing
def test_overdue_day_one_places_one_call_to_the_borrower_with_the_notice_in_its_url(db, clock, twilio):
    stand_in, base = twilio
    report = make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    assert KEY in report.sent
    placed = notice(db)
    assert placed.channel == "phone" and placed.vendor_ref == f"twilio:{stand_in.calls[0].resource['sid']}"
    [call] = stand_in.calls  # no other notice kind has a voice text: one call
    own = "+86" + borrower_phone(db)
    assert call.resource["to"] == own and call.resource["from"] == CALLER
    with session_scope(db) as s:
        third_parties = {"+86" + p for p in s.execute(select(EmergencyContact.phone)).scalars()}
    assert own not in third_parties and not {c.resource["to"] for c in stand_in.calls} & third_parties
    assert call.url == f"{PUBLIC}/webhooks/twilio_zh/webhook?notice={placed.id}"
    assert call.status_callback == f"{PUBLIC}/webhooks/twilio_zh/webhook?event=status&notice={placed.id}"
    assert call.params["Timeout"] == "40" and call.params["Method"] == "POST"
    again = make(db, Clock(clock.now + timedelta(minutes=5)), twilio_channel(stand_in, base, db)).sweep()
    assert KEY not in again.sent and len(stand_in.calls) == 1  # a second sweep places no second call
    assert stand_in.rejected == []


def test_a_crash_between_placing_and_bookkeeping_is_reconciled_without_a_second_call(db, clock, twilio):
    stand_in, base = twilio

    class CrashAfterPlacing(TwilioCallChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            super().send(address, delivery)  # Twilio placed the call ...
            raise KeyboardInterrupt  # ... and the engine dies before writing it down

    crashing = CrashAfterPlacing(twilio_channel(stand_in, base).settings, CAT, db=db)
    with pytest.raises(KeyboardInterrupt):
        make(db, clock, crashing).sweep()
    assert notice(db).status == "sending" and len(stand_in.calls) == 1
    later = Clock(clock.now + timedelta(minutes=CAT.outreach.lease_minutes + 1))
    report = make(db, later, twilio_channel(stand_in, base, db), worker="w2").sweep()
    assert report.reconciled == [KEY]
    found = notice(db)
    assert found.status == "sent" and found.vendor_ref == f"twilio:{stand_in.calls[0].resource['sid']}"
    assert len(stand_in.calls) == 1 and "reconciled" in outcomes(db)


def test_reconciliation_finds_no_call_when_twilio_has_none_and_never_another_notices_call(db, clock, twilio):
    stand_in, base = twilio
    channel = twilio_channel(stand_in, base, db)
    make(db, clock, channel).sweep()
    delivery = Delivery(999, "overdue_d1:OTHER:p1", "overdue_d1", {}, "")
    # the one call to this number belongs to the overdue notice: not found for another notice
    assert channel.find(borrower_phone(db), delivery, clock.now - timedelta(minutes=1), clock.now) is None
    # nothing since the claim: not found
    assert channel.find(borrower_phone(db), delivery, clock.now + timedelta(hours=1), clock.now) is None
    assert channel.find("13900000000", delivery, clock.now - timedelta(days=1), clock.now) is None


def test_twilio_refusing_the_call_is_retried_with_backoff_then_given_up(db, clock, twilio):
    stand_in, base = twilio
    refused = twilio_channel(stand_in, base, db, token="wrong-token")
    report = make(db, clock, refused).sweep()
    assert KEY in report.failed and stand_in.calls == []
    first = notice(db)
    assert first.status == "pending" and first.attempts == 1 and "20003" in first.reason
    assert first.next_attempt_at == clock.now + timedelta(minutes=CAT.outreach.backoff_minutes[0])
    for minutes in (6, 40):
        make(db, Clock(clock.now + timedelta(minutes=minutes)), refused).sweep()
    final = notice(db)
    assert final.status == "given_up" and final.attempts == CAT.outreach.max_attempts
    assert outcomes(db) == ["failed", "failed", "given_up"]
    assert stand_in.calls == [] and {code for _, code in stand_in.rejected} == {20003}


def test_the_stand_in_refuses_what_twilio_refuses(twilio):
    stand_in, base = twilio
    channel = twilio_channel(stand_in, base)
    delivery = Delivery(1, "k", "overdue_d1", {}, "")
    bad_url = TwilioCallChannel(TwilioCallSettings(stand_in.account_sid, stand_in.auth_token, CALLER, "ftp://x", base),
                                CAT)
    bad_from = TwilioCallChannel(TwilioCallSettings(stand_in.account_sid, stand_in.auth_token, "+8610000", PUBLIC,
                                                    base), CAT)
    for refused, code in ((bad_url, "21205"), (bad_from, "21210")):
        with pytest.raises(Exception, match=code):
            refused.send("13800009753", delivery)
    with pytest.raises(Exception, match="有效"):
        channel.send("12345", delivery)  # never reaches Twilio
    assert [code for _, code in stand_in.rejected] == [21205, 21210]


def test_phone_carries_only_kinds_with_a_voice_text_and_numbers_become_e164(twilio):
    stand_in, base = twilio
    channel = twilio_channel(stand_in, base)
    assert channel.name == "phone" and channel.private is False
    assert {r.kind for r in CAT.outreach.notices if channel.handles(r.kind)} == {
        r.kind for r in CAT.outreach.notices if r.voice} == {"overdue_d1"}
    assert e164("13800009753") == e164("+86 138-0000-9753") == e164("008613800009753") == "+8613800009753"
    voice = render(CAT, "overdue_d1", channel, {"company": CAT.company})
    assert voice == CAT.outreach.rule("overdue_d1").voice.format(company=CAT.company)


def test_the_registry_prefers_the_ivr_platform_and_falls_back_to_twilio(db, monkeypatch):
    from outreach.registry import default_channels

    for name in ("IVR_OUTBOUND_URL", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    assert "phone" not in default_channels(db)  # Twilio's outbound settings incomplete
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_CALLER_ID", CALLER)
    assert isinstance(default_channels(db)["phone"], TwilioCallChannel)
    monkeypatch.setenv("IVR_OUTBOUND_URL", "https://ivr.example.com/api/outbound-calls")
    monkeypatch.setenv("IVR_SHARED_SECRET", "s")
    monkeypatch.setenv("IVR_CALLER_ID", "02161234567")
    assert isinstance(default_channels(db)["phone"], IvrCallChannel)


def test_the_paths_and_parameter_agree_with_the_channels():
    from connectors.ivr.channel import IvrInput
    from connectors.twilio_zh.channel import WEBHOOK_PATH
    from connectors.voice import calls
    from outreach import phone

    assert phone.TWILIO_WEBHOOK_PATH == WEBHOOK_PATH and phone.NOTICE_PARAM == calls.NOTICE_PARAM
    assert phone.IVR_WEBHOOK_PATH == f"/webhooks/{IvrInput.name()}/webhook"


# ------------------------------------------------------------------------------------ TwiML
def test_outbound_twiml_validates_is_mandarin_and_keeps_the_notice_on_every_url():
    from connectors.twilio_zh.channel import webhook_url

    settings = TwilioSettings(auth_token="t", public_base_url=PUBLIC, agent_number="+8640082088200")
    state = CallState(started=True)
    opening = [{"text": CAT.outreach.rule("overdue_d1").voice.format(company=CAT.company)},
               {"text": "请输入您身份证号码的后四位。"}]
    turn = VoiceEngine().after_turn(render_voice(opening), state, "id_last4")
    xml = render_twiml(turn, settings, lambda event: webhook_url(PUBLIC, event, 42))
    root = ET.fromstring(xml)
    assert root.tag == "Response" and {el.tag for el in root.iter()} <= TWILIO_VERBS
    gather = root.find("Gather")
    assert gather.get("language") == "zh-CN" and gather.get("input") == "dtmf speech"
    assert gather.get("numDigits") == "4" and gather.get("method") == "POST"
    for url in (gather.get("action"), root.find("Redirect").text):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["notice"] == ["42"] and url.startswith(f"{PUBLIC}/webhooks/twilio_zh/webhook?")
    says = list(root.iter("Say"))
    assert says and all(s.get("language") == "cmn-CN" and s.get("voice") == "Polly.Zhiyu" for s in says)
    spoken = "".join(s.text or "" for s in says)
    assert "核实身份" in spoken and "按键输入" in spoken and "请按一" not in spoken  # no main menu on this call
    assert webhook_url(None, "gather") == "/webhooks/twilio_zh/webhook?event=gather"


# ----------------------------------------------------------------- keypad digits on buttons
def test_a_button_may_name_its_own_digit():
    buttons = [{"title": "听还款方式", "payload": "/ask_repayment", "key": "1"},
               {"title": "转人工", "payload": "/request_human"}]
    assert [(o.digit, o.label) for o in assign_digits(buttons)] == [("1", "听还款方式"), ("0", "转人工")]
    spoken = render_voice([{"text": "请选择。", "buttons": buttons}])
    assert spoken.menu == {"1": "/ask_repayment", "0": "/request_human"}
    assert "听还款方式请按一，转人工请按零" in spoken.prompts[0]
    wechat = render_wechat([{"text": "请选择。", "buttons": buttons}])
    assert "【1】听还款方式\n【0】转人工" in wechat.texts[0] and wechat.menu["1"] == "/ask_repayment"
    # without a key the main-menu defaults stay; a key taken twice or not a digit falls to the next rule
    assert [o.digit for o in assign_digits([{"title": "还款", "payload": "/ask_repayment"}])] == ["3"]
    clash = [{"title": "甲", "payload": "/a", "key": "2"}, {"title": "乙", "payload": "/check_progress"},
             {"title": "丙", "payload": "/b", "key": "2"}, {"title": "丁", "payload": "/c", "key": "12"}]
    assert [o.digit for o in assign_digits(clash)] == ["2", "1", "3", "4"]


# ---------------------------------------------------------------------------- IVR platform
class IvrPlatformStandIn:
    """The call-centre platform's side of ``POST /outbound-calls`` as docs/ivr-openapi.yaml describes it:
    signature checked, body validated against ``OutboundCallRequest``, at most one call per request_id
    (a repeat answers 200 with the same call_id), nothing placed past ``expires_at`` (422 expired)."""

    def __init__(self, secret: str, clock: Clock) -> None:
        self.secret, self.clock = secret, clock
        self.schema = SPEC.request_schema(OUTBOUND, "POST")
        self.placed: Dict[str, Dict[str, Any]] = {}
        self.exchanges: List[Tuple[int, Dict[str, Any], Any]] = []  # (status, payload, body)
        self._server: Optional[ThreadingHTTPServer] = None

    def handle(self, raw: bytes, header: Optional[str]) -> Tuple[int, Dict[str, Any]]:
        def error(status: int, code: str) -> Tuple[int, Dict[str, Any]]:
            return status, {"error": {"code": code, "message": code, "message_zh": code}}

        try:
            ivr_signature.verify(self.secret, header, raw)
        except ChannelError:
            return error(401, "bad_signature")
        try:
            body = json.loads(raw.decode("utf-8"))
            jsonschema.Draft4Validator(self.schema).validate(body)
            expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        except (ValueError, jsonschema.ValidationError):
            return error(400, "invalid_request")
        earlier = self.placed.get(body["request_id"])
        if earlier is not None:
            if earlier["to"] != body["to"]:
                return error(409, "request_id_conflict")
            return 200, {"call_id": earlier["call_id"], "request_id": body["request_id"], "status": "queued"}
        if self.clock() > expires:
            return error(422, "expired")
        call_id = f"out-{len(self.placed) + 1:04d}"
        self.placed[body["request_id"]] = {"call_id": call_id, **body}
        return 201, {"call_id": call_id, "request_id": body["request_id"], "status": "queued"}

    def start(self) -> str:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = platform.handle(raw, self.headers.get(ivr_signature.HEADER))
                try:
                    body: Any = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = None
                platform.exchanges.append((status, payload, body))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}{OUTBOUND}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture()
def ivr(clock):
    platform = IvrPlatformStandIn("test-ivr-secret", clock)
    url = platform.start()
    settings = IvrCallSettings(outbound_url=url, shared_secret="test-ivr-secret", caller_id="02161234567",
                               public_base_url=PUBLIC)
    yield platform, settings
    platform.stop()


def test_the_documented_outbound_examples_are_valid():
    operation = SPEC.operation(OUTBOUND, "POST")
    example = operation["requestBody"]["content"]["application/json"]["examples"]["overdue_day_1"]["value"]
    jsonschema.Draft4Validator(SPEC.request_schema(OUTBOUND, "POST")).validate(example)
    for status in (200, 201):
        for item in operation["responses"][str(status)]["content"]["application/json"]["examples"].values():
            jsonschema.Draft4Validator(SPEC.response_schema(OUTBOUND, "POST", status)).validate(item["value"])
    assert {"200", "201", "400", "401", "409", "422", "429", "503"} <= set(operation["responses"])


def test_the_ivr_platform_places_the_call_with_a_valid_signed_idempotent_request(db, clock, ivr):
    platform, settings = ivr
    channel = IvrCallChannel(settings, CAT, clock=clock)
    report = make(db, clock, channel).sweep()
    assert KEY in report.sent
    placed = notice(db)
    [(status, payload, body)] = platform.exchanges
    assert status == 201 and placed.vendor_ref == f"ivr:{payload['call_id']}"
    assert body["request_id"] == KEY and body["to"] == "+86" + borrower_phone(db)
    assert body["caller_id"] == "02161234567"  # a domestic number
    assert body["callback_url"] == f"{PUBLIC}/webhooks/ivr/webhook?notice={placed.id}"
    fallback = body["script"]["fallback"]["text"]
    assert body["script"]["voicemail"] == "hangup" and "客服热线" in fallback and not re.search(r"[0-9]", fallback)
    for status, payload, _ in platform.exchanges:
        jsonschema.Draft4Validator(SPEC.response_schema(OUTBOUND, "POST", status)).validate(payload)
    # a repeated request (reconciliation) answers the same call and places nothing
    delivery = Delivery(placed.id, KEY, "overdue_d1", json.loads(placed.fields), "")
    again = channel.find(borrower_phone(db), delivery, clock.now, clock.now + timedelta(minutes=6))
    assert again == placed.vendor_ref and len(platform.placed) == 1 and platform.exchanges[-1][0] == 200
    assert KEY not in make(db, Clock(clock.now + timedelta(minutes=5)), channel).sweep().sent
    assert len(platform.placed) == 1


def test_a_crash_after_the_platform_placed_the_call_is_reconciled_by_repeating_the_request(db, clock, ivr):
    platform, settings = ivr

    class CrashAfterPlacing(IvrCallChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            super().send(address, delivery)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make(db, clock, CrashAfterPlacing(settings, CAT, clock=clock)).sweep()
    later = Clock(clock.now + timedelta(minutes=CAT.outreach.lease_minutes + 1))
    report = make(db, later, IvrCallChannel(settings, CAT, clock=later), worker="w2").sweep()
    assert report.reconciled == [KEY] and len(platform.placed) == 1
    assert notice(db).vendor_ref == f"ivr:{platform.placed[KEY]['call_id']}"


def test_ivr_refusals_and_an_expired_request(db, clock, ivr):
    from outreach.channels import DeliveryFailed, DeliveryUnknown

    platform, settings = ivr
    delivery = Delivery(5, "overdue_d1:SQX:p1", "overdue_d1", {}, "")
    wrong = IvrCallChannel(IvrCallSettings(settings.outbound_url, "wrong", settings.caller_id, PUBLIC), CAT,
                           clock=clock)
    with pytest.raises(DeliveryFailed, match="401"):
        wrong.send("13800009753", delivery)
    channel = IvrCallChannel(settings, CAT, clock=clock)
    # the first request never arrived and its moment has passed: no call exists, none is placed now
    assert channel.find("13800009753", delivery, clock.now - timedelta(hours=1), clock.now) is None
    assert platform.placed == {} and platform.exchanges[-1][0] == 422
    with pytest.raises(DeliveryUnknown):  # past the platform's de-duplication window nobody can tell
        channel.find("13800009753", delivery, clock.now - timedelta(days=2), clock.now)
    for status, payload, _ in platform.exchanges:
        jsonschema.Draft4Validator(SPEC.response_schema(OUTBOUND, "POST", status)).validate(payload)


# ------------------------------------------------------------------ the answered call, in process
class RasaStandIn:
    """Stands in for ``rasa.core.agent.Agent`` (lock store, processor, domain, tracker store) and answers as
    the dialogue contract of ``EXTERNAL_outreach_notice`` says: the notice's voice opening, then the form
    asks for ``id_last4``; the right digits read the detail and offer 1 听还款方式 / 0 转人工."""

    def __init__(self, db, last4: str = "9753") -> None:
        from rasa.core.lock_store import InMemoryLockStore

        self.db, self.last4 = db, last4
        self.lock_store = InMemoryLockStore()
        self.domain = type("Domain", (), {"intents": ["greet", "EXTERNAL_outreach_notice"]})()
        self.processor = self
        self.tracker_store = self
        self.triggered: List[Tuple[str, str, Any]] = []
        self.user: List[Tuple[str, str]] = []
        self.requested: Dict[str, Optional[str]] = {}

    def is_ready(self) -> bool:
        return True

    async def fetch_tracker_and_update_session(self, sender_id: str, output_channel: Any = None,
                                               metadata: Any = None) -> Any:
        from rasa.shared.core.trackers import DialogueStateTracker

        return DialogueStateTracker(sender_id, [])

    async def trigger_intent(self, intent_name: str, entities: Any, output_channel: Any, tracker: Any) -> None:
        self.triggered.append((tracker.sender_id, intent_name, entities))
        with session_scope(self.db) as s:
            row = s.get(OutreachNotice, int(entities[0]["value"]))
            voice = CAT.outreach.rule(row.kind).voice.format(**json.loads(row.fields))
        await output_channel.send_response(tracker.sender_id, {"text": voice})
        await output_channel.send_response(tracker.sender_id, {"text": "请告诉我您身份证号码的后四位。"})
        self.requested[tracker.sender_id] = "id_last4"

    async def on_new_message(self, message: Any) -> None:
        self.user.append((message.sender_id, message.text))
        if message.text == self.last4:
            self.requested[message.sender_id] = None
            await message.output_channel.send_response(message.sender_id, {
                "text": "核实通过。您尾号0007的借款第1期已逾期1天。",
                "buttons": [{"title": "听还款方式", "payload": "/ask_repayment", "key": "1"},
                            {"title": "转人工", "payload": "/request_human"}]})
        else:
            await message.output_channel.send_response(message.sender_id, {"text": "好的。"})

    async def retrieve(self, sender_id: str) -> Any:
        slot = self.requested.get(sender_id)
        return type("Tracker", (), {"active_loop_name": "verify_form" if slot else None,
                                    "get_slot": lambda _self, name: slot})()


class InProcessWebhooks:
    """The real twilio_zh and ivr webhooks in a Sanic app, called over ASGI on a loop of its own."""

    def __init__(self, agent: Any) -> None:
        from sanic import Sanic

        from connectors.ivr.channel import IvrInput
        from connectors.ivr.config import IvrSettings
        from connectors.twilio_zh.channel import TwilioZhInput

        self.app = Sanic(f"outbound_{uuid.uuid4().hex[:8]}")
        self.app.ctx.agent = agent
        twilio = TwilioZhInput(TwilioSettings(auth_token="test-twilio-token", public_base_url=PUBLIC,
                                              agent_number="+8640082088200"))
        ivr = IvrInput(IvrSettings(shared_secret="test-ivr-secret"))
        for channel in (twilio, ivr):
            self.app.blueprint(channel.blueprint(agent.on_new_message), url_prefix=f"/webhooks/{channel.url_prefix()}")
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self._run(self._startup())

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _startup(self) -> None:
        messages = [{"type": "lifespan.startup"}]

        async def receive() -> Dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)
            return {"type": "lifespan.shutdown"}

        async def send(_: Dict[str, Any]) -> None:
            return None

        asyncio.ensure_future(self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
        await asyncio.sleep(0.05)

    async def _call(self, url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, str]:
        parts = urllib.parse.urlsplit(url)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": parts.scheme or "https", "path": parts.path, "raw_path": parts.path.encode(),
                 "query_string": parts.query.encode(), "root_path": "",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                 + [(b"host", (parts.netloc or "bot.example.com").encode()),
                    (b"content-length", str(len(body)).encode())],
                 "server": ("bot.example.com", 443), "client": ("127.0.0.1", 40000)}
        sent = False
        out: Dict[str, Any] = {"status": 0, "body": b""}

        async def receive() -> Dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: Dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return out["status"], out["body"].decode("utf-8")

    def post(self, url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, str]:
        return self._run(self._call(url, body, headers))

    def twilio(self, query: str, params: Dict[str, str], token: str = "test-twilio-token",
               signed: bool = True) -> Tuple[int, str]:
        url = f"{PUBLIC}/webhooks/twilio_zh/webhook" + (f"?{query}" if query else "")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, params)
        return self.post(url, urllib.parse.urlencode(params).encode(), headers)

    def ivr(self, query: str, payload: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        body = json.dumps(payload).encode()
        status, text = self.post(f"{PUBLIC}/webhooks/ivr/webhook" + (f"?{query}" if query else ""), body,
                                 {"Content-Type": "application/json",
                                  ivr_signature.HEADER: ivr_signature.sign("test-ivr-secret", body)})
        return status, json.loads(text)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture()
def webhooks(db, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(db.url))
    monkeypatch.setenv("CREDIT_FAKE_NOW", clock.now.isoformat())  # the webhook's business clock
    monkeypatch.setenv("CHANNEL_STATE_DB", str(tmp_path / "channel_state.db"))
    agent = RasaStandIn(db)
    hooks = InProcessWebhooks(agent)
    yield agent, hooks
    hooks.close()


def _spoken(twiml: str) -> str:
    return "".join(s.text or "" for s in ET.fromstring(twiml).iter("Say"))


def test_the_answered_call_opens_with_the_notice_and_reads_no_loan_detail_before_verification(
        db, clock, twilio, webhooks):
    stand_in, base = twilio
    agent, hooks = webhooks
    stand_in.transport = hooks.post
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    placed = notice(db)
    [call] = stand_in.calls
    first = stand_in.answer(call.resource["sid"])
    sender = f"tel:notice-{placed.id}"
    assert agent.triggered == [(sender, "EXTERNAL_outreach_notice", [{"entity": "notice_id",
                                                                      "value": str(placed.id)}])]
    root = ET.fromstring(first)
    assert {el.tag for el in root.iter()} <= TWILIO_VERBS and root.find("Gather").get("numDigits") == "4"
    spoken = _spoken(first)
    fields = json.loads(placed.fields)
    assert "核实身份" in spoken and "请按一" not in spoken
    assert fields["loan_tail"] not in spoken and "零零零七" not in spoken and "逾期" not in spoken
    assert f"notice={placed.id}" in call.next_url
    after = stand_in.press(call.resource["sid"], "9753")
    assert agent.user == [(sender, "9753")]  # the keyed digits are the form's answer, in the notice's conversation
    assert "逾期" in _spoken(after) and "听还款方式请按一，转人工请按零" in _spoken(after)
    stand_in.press(call.resource["sid"], "1")
    assert agent.user[-1] == (sender, "/ask_repayment")
    assert stand_in.hang_up(call.resource["sid"])[0] == 200


def test_silence_on_a_call_we_placed_ends_it_politely_and_never_rings_the_agents(db, clock, twilio, webhooks):
    stand_in, base = twilio
    _, hooks = webhooks
    stand_in.transport = hooks.post
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    [call] = stand_in.calls
    stand_in.answer(call.resource["sid"])
    replies = [stand_in.silence(call.resource["sid"]) for _ in range(3)]  # two reprompts, then the end
    assert "没有听到您的声音" in _spoken(replies[0]) and ET.fromstring(replies[0]).find("Gather") is not None
    last = ET.fromstring(replies[-1])
    assert last.find("Hangup") is not None and last.find("Dial") is None
    assert "先不打扰了" in _spoken(replies[-1]) and "转接" not in _spoken(replies[-1])


@pytest.mark.parametrize("which", ["abc", "12345678901234567890", "-1", "sms_notice", "unknown", "stale", "",
                                   "twice"])
def test_hostile_notice_values_get_a_goodbye_and_no_dialogue(db, clock, twilio, webhooks, which):
    stand_in, base = twilio
    agent, hooks = webhooks
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()  # the overdue call and SMS notices exist
    with session_scope(db) as s:
        sms = s.execute(select(OutreachNotice.id).where(OutreachNotice.channel == "sms")).scalars().first()
        if which == "stale":  # placed three hours ago
            s.execute(update(OutreachNotice).where(OutreachNotice.key == KEY)
                      .values(claimed_at=clock.now - timedelta(hours=3), sent_at=clock.now - timedelta(hours=3)))
    value = {"sms_notice": str(sms), "unknown": "999999", "stale": str(notice(db).id)}.get(which, which)
    assert which != "sms_notice" or sms is not None
    params = {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": "+8613800009753", "CallStatus": "in-progress",
              "Direction": "outbound-api"}
    query = f"notice={urllib.parse.quote(value)}" if which != "twice" else f"notice={notice(db).id}&notice=1"
    status, twiml = hooks.twilio(query, params)
    root = ET.fromstring(twiml)
    assert status == 200 and root.find("Hangup") is not None and root.find("Gather") is None
    assert "无需您处理" in _spoken(twiml)
    ivr_status, body = hooks.ivr(query, {"call_id": "c-1", "event": "call_start"})
    assert ivr_status == 200 and body["action"]["type"] == "hangup" and "input" not in body
    jsonschema.Draft4Validator(SPEC.response_schema("/webhooks/ivr/webhook", "POST", 200)).validate(body)
    assert agent.triggered == [] and agent.user == []


def test_the_signature_is_still_required_for_an_outbound_call(db, clock, twilio, webhooks):
    stand_in, base = twilio
    agent, hooks = webhooks
    make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    query = f"notice={notice(db).id}"
    params = {"CallSid": "CA" + "2" * 32, "From": CALLER, "To": "+8613800009753"}
    assert hooks.twilio(query, params, signed=False)[0] == 403
    assert hooks.twilio(query, params, token="wrong")[0] == 403
    signed_without = RequestValidator("test-twilio-token").compute_signature(
        f"{PUBLIC}/webhooks/twilio_zh/webhook", params)  # signed for the URL without the notice
    status, _ = hooks.post(f"{PUBLIC}/webhooks/twilio_zh/webhook?{query}", urllib.parse.urlencode(params).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signed_without})
    assert status == 403 and agent.triggered == [] and agent.user == []


def test_the_ivr_callback_of_an_outbound_call_opens_the_notice_conversation(db, clock, ivr, webhooks):
    platform, settings = ivr
    agent, hooks = webhooks
    make(db, clock, IvrCallChannel(settings, CAT, clock=clock)).sweep()
    placed = notice(db)
    callback = platform.placed[KEY]["callback_url"]
    query = urllib.parse.urlsplit(callback).query
    call_id = platform.placed[KEY]["call_id"]
    status, first = hooks.ivr(query, {"call_id": call_id, "event": "call_start", "caller": "02161234567",
                                      "called": "+8613800009753"})
    assert status == 200 and first["call_id"] == call_id
    jsonschema.Draft4Validator(SPEC.response_schema("/webhooks/ivr/webhook", "POST", 200)).validate(first)
    assert first["input"]["purpose"] == "digits:id_last4" and first["input"]["dtmf"]["max_digits"] == 4
    assert agent.triggered[0][0] == f"ivr:notice-{placed.id}"
    _, after = hooks.ivr(query, {"call_id": call_id, "event": "dtmf", "digits": "9753"})
    assert agent.user == [(f"ivr:notice-{placed.id}", "9753")] and after["input"]["purpose"] == "menu"


def test_trigger_external_refuses_an_intent_the_model_does_not_know(db):
    from connectors.external import AgentNotReady, UnknownIntent, trigger_external
    from connectors.outputs import RecordingOutput

    agent = RasaStandIn(db)
    with pytest.raises(UnknownIntent):
        asyncio.run(trigger_external(agent, "tel:notice-1", "EXTERNAL_nope", {}, RecordingOutput("twilio_zh")))
    with pytest.raises(AgentNotReady):
        asyncio.run(trigger_external(None, "tel:notice-1", "EXTERNAL_outreach_notice", {},
                                     RecordingOutput("twilio_zh")))
    assert agent.triggered == []
