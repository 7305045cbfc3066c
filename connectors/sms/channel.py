"""Rasa glue for the SMS reply callback (``POST /webhooks/sms_tencent/uplink?token=…``).

An input channel only to be served by the Rasa server next to the other webhooks: replies never start a
dialogue turn (``on_new_message`` is not called).  Without ``SMS_UPLINK_TOKEN`` the route answers 404 and
a log line says why, like every channel without its secret.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from connectors.http import ChannelError, check_body_size, guarded, webhook_blueprint
from connectors.sms.config import UplinkSettings
from connectors.sms.uplink import UplinkService
from credit import clock

CHANNEL = "sms_tencent"
UPLINK_PATH = f"/webhooks/{CHANNEL}/uplink"
DISABLED_ZH = "短信上行回调未启用（未设置 SMS_UPLINK_TOKEN）"
DISABLED_EN = "SMS reply callback disabled (SMS_UPLINK_TOKEN not set)"


class TencentSmsUplinkInput(InputChannel):
    """Tencent Cloud SMS reply callback, configured from SMS_UPLINK_TOKEN."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls(UplinkSettings.from_env())

    def __init__(self, settings: Optional[UplinkSettings], engine: Optional[Engine] = None,
                 now: Callable[[], datetime] = clock.now) -> None:
        self.settings = settings
        self.engine = engine
        self.now = now

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = self.settings
        webhook = webhook_blueprint("sms_tencent_webhook", CHANNEL, settings is not None, DISABLED_ZH, DISABLED_EN,
                                    methods=("POST",))
        if settings is None:

            @webhook.route("/uplink", methods=["POST"])
            @guarded(CHANNEL)
            async def disabled(_: Request) -> HTTPResponse:
                raise ChannelError(404, "disabled", DISABLED_ZH, DISABLED_EN)

            return webhook

        service = UplinkService(settings, self.engine, self.now)

        @webhook.route("/uplink", methods=["POST"])
        @guarded(CHANNEL)
        async def uplink(request: Request) -> HTTPResponse:
            body = check_body_size(request, settings.max_body_bytes)
            token = request.args.get("token") if request.args else None
            answer = await asyncio.to_thread(service.handle, body, token)  # the database is not async
            return response.json(answer)

        return webhook
