"""Rasa glue for ``twilio_zh`` (``/webhooks/twilio_zh/webhook``): Mandarin speech and
keypad input through TwiML ``<Gather input="dtmf speech">``.

An outbound call placed by outreach (``outreach/phone.py``) calls ``…/webhook?notice=<id>``: its
conversation is ``tel:notice-<id>`` for every event, every action URL of its TwiML keeps the
``notice`` parameter, and its start triggers the notice's external intent (``connectors.voice.calls``).
The signature is checked for these requests like for any other."""
from __future__ import annotations

import logging
import urllib.parse
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import ids
from connectors.http import bad_request, check_body_size, guarded, text_error, webhook_blueprint
from connectors.twilio_zh.config import TwilioSettings
from connectors.twilio_zh.signature import check_twilio_signature
from connectors.twilio_zh.twiml import render_twiml
from connectors.voice.calls import (
    NOTICE_PARAM,
    CallRunner,
    engine_from_env,
    goodbye_turn,
    notice_query,
    tracker_slot_lookup,
)
from connectors.voice.engine import VoiceEvent

logger = logging.getLogger(__name__)

CHANNEL = "twilio_zh"
WEBHOOK_PATH = f"/webhooks/{CHANNEL}/webhook"
ENDED_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
EMPTY_TWIML = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />"


def _form(request: Request) -> Any:
    if request.method != "POST":
        return request.args
    try:
        return request.form
    except Exception:  # noqa: BLE001 - a body Sanic cannot parse
        raise bad_request("malformed_form", "表单格式错误", "malformed form body") from None


def _param(request: Request, name: str) -> str:
    source = _form(request)
    value = source.get(name) if source else None
    return value if isinstance(value, str) else ""


def webhook_url(public_base_url: str | None, event: str | None = None, notice: int | str | None = None) -> str:
    """The webhook URL for Twilio's next request: ``?event=gather|no_input|status`` and, on an outbound
    call, ``notice=<id>`` (Twilio signs the URL with its query, so the order is fixed here)."""
    query = urllib.parse.urlencode([(k, str(v)) for k, v in (("event", event), (NOTICE_PARAM, notice))
                                    if v is not None])
    return f"{public_base_url or ''}{WEBHOOK_PATH}" + (f"?{query}" if query else "")


def event_from_request(request: Request) -> VoiceEvent:
    """Twilio's form fields (and our own ``event`` query parameter) as a call event."""
    marker = (request.args.get("event") or "") if request.args else ""
    if _param(request, "CallStatus") in ENDED_STATUSES:
        return VoiceEvent("hangup")
    digits = _param(request, "Digits")
    speech = _param(request, "SpeechResult")
    if digits:
        return VoiceEvent("dtmf", digits=digits[:32])
    if speech:
        confidence: float | None
        try:
            confidence = float(_param(request, "Confidence"))
            if not 0.0 <= confidence <= 1.0:
                confidence = None
        except ValueError:
            confidence = None
        return VoiceEvent("speech", text=speech[:2000], confidence=confidence)
    if marker in ("gather", "no_input"):
        return VoiceEvent("no_input")
    return VoiceEvent("call_start")


class TwilioZhInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls(TwilioSettings.from_env())

    def __init__(self, settings: TwilioSettings | None) -> None:
        self.settings = settings

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = self.settings
        webhook = webhook_blueprint("twilio_zh_webhook", CHANNEL, settings is not None,
                                    "电话渠道未启用（未设置 TWILIO_AUTH_TOKEN）", "twilio_zh disabled",
                                    render_error=text_error)
        if settings is None:
            return webhook

        runner = CallRunner(CHANNEL, ids.TELEPHONE, engine_from_env())

        @webhook.route("/webhook", methods=["GET", "POST"])
        @guarded(CHANNEL, text_error)
        async def receive(request: Request) -> HTTPResponse:
            check_body_size(request, settings.max_body_bytes)
            check_twilio_signature(request, settings.auth_token, settings.public_base_url)
            call_sid = _param(request, "CallSid")
            if not ids.is_valid_raw_id(call_sid):
                raise bad_request("bad_call_sid", "缺少或无效的 CallSid", "missing or invalid CallSid")
            event = event_from_request(request)
            if request.args and request.args.get("event") == "status" and event.kind != "hangup":
                return response.text(EMPTY_TWIML, content_type="text/xml; charset=utf-8")  # progress, no turn
            route = await runner.route(call_sid, notice_query(request.query_string), request.app)
            if event.kind == "hangup":  # a status callback: nothing to say, the call state goes
                if not route.refused:
                    await runner.handle(route.call_id, event, on_new_message)
                return response.text(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
            if route.refused:
                turn = goodbye_turn()
            else:
                metadata: Dict[str, Any] = {"call_sid": call_sid, "caller": _param(request, "From")[:32]}
                if route.notice_id is not None:  # outbound: the caller is us, the borrower was called
                    metadata.update(called=_param(request, "To")[:32], notice_id=route.notice_id)
                turn = await runner.handle(route.call_id, event, on_new_message, metadata=metadata,
                                           slot_lookup=tracker_slot_lookup(request.app), start=route.start)

            def url_for(next_event: str) -> str:
                return webhook_url(settings.public_base_url, next_event, route.notice_id)

            return response.text(render_twiml(turn, settings, url_for), content_type="text/xml; charset=utf-8")

        return webhook
