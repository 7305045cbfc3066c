"""Rasa glue for the 微信客服 channel (``/webhooks/wecom_kf/webhook``)."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.http import guarded, text_error, webhook_blueprint
from connectors.wecom_kf.config import WeComKfSettings
from connectors.wecom_kf.service import CHANNEL, KfService

logger = logging.getLogger(__name__)


def _flat_args(request: Request) -> Dict[str, str]:
    return {key: values[0] for key, values in request.args.items() if values}


class WeComKfInput(InputChannel):
    """微信客服 (WeCom kf) callback, configured from the WECOM_* variables; off without them."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls(WeComKfSettings.from_env())

    def __init__(self, settings: WeComKfSettings | None) -> None:
        self.settings = settings
        self.service: KfService | None = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = self.settings
        webhook = webhook_blueprint("wecom_kf_webhook", CHANNEL, settings is not None,
                                    "微信客服渠道未启用（未设置 WECOM_CORP_ID / WECOM_KF_SECRET / WECOM_TOKEN / "
                                    "WECOM_AES_KEY）", "WeCom kf channel disabled", render_error=text_error)
        if settings is None:
            return webhook

        service = KfService(settings, on_new_message)
        self.service = service

        @webhook.listener("after_server_start")
        async def resume(app: Any, _: Any) -> None:
            async def has_turn(sender_id: str, message_id: str) -> bool:
                tracker = await app.ctx.agent.tracker_store.retrieve(sender_id)
                return tracker is not None and any(
                    getattr(e, "message_id", None) == message_id for e in tracker.events)

            await service.start(has_turn)

        @webhook.route("/webhook", methods=["GET"])
        @guarded(CHANNEL, text_error)
        async def verify(request: Request) -> HTTPResponse:
            return response.text(service.verify(_flat_args(request)))

        @webhook.route("/webhook", methods=["POST"])
        @guarded(CHANNEL, text_error)
        async def receive(request: Request) -> HTTPResponse:
            return response.text(await service.handle(request.body or b"", _flat_args(request)))

        return webhook
