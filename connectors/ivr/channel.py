"""Rasa glue for the JSON IVR webhook (``/webhooks/ivr/webhook``).

An outbound call requested by outreach (``outreach/phone.py``, ``POST IVR_OUTBOUND_URL``) names
``…/webhook?notice=<id>`` as its ``callback_url``; the platform posts every event of that call there.
Its conversation is ``ivr:notice-<id>`` (the platform's ``call_id`` is still validated and echoed), and
its start triggers the notice's external intent (``connectors.voice.calls``)."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import ids
from connectors.http import check_body_size, guarded, webhook_blueprint
from connectors.ivr import signature
from connectors.ivr.config import IvrSettings
from connectors.ivr.schema import parse_request, response_body
from connectors.voice.calls import CallRunner, engine_from_env, goodbye_turn, notice_query, tracker_slot_lookup

logger = logging.getLogger(__name__)

CHANNEL = "ivr"


class IvrInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls(IvrSettings.from_env())

    def __init__(self, settings: IvrSettings | None) -> None:
        self.settings = settings

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = self.settings
        webhook = webhook_blueprint("ivr_webhook", CHANNEL, settings is not None,
                                    "IVR 渠道未启用（未设置 IVR_SHARED_SECRET）", "ivr channel disabled",
                                    methods=("POST",))
        if settings is None:
            return webhook

        runner = CallRunner(CHANNEL, ids.IVR, engine_from_env())

        @webhook.route("/webhook", methods=["POST"])
        @guarded(CHANNEL)
        async def receive(request: Request) -> HTTPResponse:
            body = check_body_size(request, settings.max_body_bytes)
            signature.verify(settings.shared_secret, request.headers.get(signature.HEADER), body, settings.tolerance_s)
            parsed = parse_request(body)
            route = await runner.route(parsed.call_id, notice_query(request.query_string), request.app)
            metadata: Dict[str, Any] = {"call_id": parsed.call_id, "caller": parsed.caller, "called": parsed.called}
            if route.notice_id is not None:
                metadata["notice_id"] = route.notice_id
            if route.refused:
                turn = goodbye_turn(parsed.event)
            else:
                turn = await runner.handle(route.call_id, parsed.event, on_new_message, metadata=metadata,
                                           slot_lookup=tracker_slot_lookup(request.app), start=route.start)
            return response.json(response_body(parsed.call_id, turn, settings.language), ensure_ascii=False)

        return webhook
