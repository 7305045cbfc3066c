"""Shared by the outbound-call tests (issue 12, "Phone: an outbound call") in this folder: the catalogue, the
overdue notice they place, helpers over the SQLite loan database, and the stand-ins (the IVR platform's
``POST /outbound-calls``, Rasa's agent, the real webhooks in process).  Their fixtures are in conftest.py.
"""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
import uuid
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import jsonschema
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from connectors.http import ChannelError
from connectors.ivr import signature as ivr_signature
from connectors.twilio_zh.config import TwilioSettings
from credit.catalogue.loader import load_catalogue
from credit.db.engine import session_scope
from credit.db.loans import Application, Customer, Loan, LoanInstallment
from credit.db.outreach import OutreachAttempt, OutreachNotice
from credit.policy import CHINA_TZ
from harness.paths import ROOT as PROJECT_ROOT
from harness.twilio_api import TwilioApiStandIn
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine
from outreach.phone import TwilioCallChannel, TwilioCallSettings
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


def twilio_channel(stand_in: TwilioApiStandIn, base: str, db=None, token: Optional[str] = None) -> TwilioCallChannel:
    settings = TwilioCallSettings(stand_in.account_sid, token or stand_in.auth_token, CALLER, PUBLIC, base)
    return TwilioCallChannel(settings, CAT, db=db)


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
