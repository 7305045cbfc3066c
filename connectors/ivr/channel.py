"""Rasa glue for the JSON IVR webhook (``/webhooks/ivr/webhook``)."""
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
from connectors.voice.calls import CallRunner, engine_from_env, tracker_slot_lookup

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
            turn = await runner.handle(
                parsed.call_id,
                parsed.event,
                on_new_message,
                slot_lookup=tracker_slot_lookup(request.app),
                metadata={"call_id": parsed.call_id, "caller": parsed.caller, "called": parsed.called},
            )
            return response.json(response_body(parsed.call_id, turn, settings.language), ensure_ascii=False)

        return webhook
