"""Rasa glue for the WeChat Official Account channel (``/webhooks/wechat/webhook``)."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import ids
from connectors.http import guarded, text_error, webhook_blueprint
from connectors.wechat.config import WeChatSettings
from connectors.wechat.service import CHANNEL, WeChatService

logger = logging.getLogger(__name__)


def _flat_args(request: Request) -> Dict[str, str]:
    return {key: values[0] for key, values in request.args.items() if values}


class WeChatInput(InputChannel):
    """WeChat Official Account (公众号) callback, configured from WECHAT_* variables."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls(WeChatSettings.from_env())

    def __init__(self, settings: WeChatSettings | None) -> None:
        self.settings = settings
        self.service: WeChatService | None = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = self.settings
        webhook = webhook_blueprint("wechat_webhook", CHANNEL, settings is not None,
                                    "微信渠道未启用（未设置 WECHAT_TOKEN）", "WeChat channel disabled",
                                    render_error=text_error)
        if settings is None:
            return webhook

        service = WeChatService(settings, on_new_message)
        self.service = service

        @webhook.route("/webhook", methods=["GET"])
        @guarded(CHANNEL, text_error)
        async def verify(request: Request) -> HTTPResponse:
            return response.text(service.verify(_flat_args(request)))

        @webhook.route("/webhook", methods=["POST"])
        @guarded(CHANNEL, text_error)
        async def receive(request: Request) -> HTTPResponse:
            result = await service.handle(request.body or b"", _flat_args(request))
            return response.text(result.body, content_type=result.content_type)

        return webhook

    def get_output_channel(self) -> OutputChannel | None:
        return WeChatPushOutput(self.service) if self.service and self.service.client else None


class WeChatPushOutput(OutputChannel):
    """Bot messages outside a callback (external events, reminders) via the API."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, service: WeChatService | None) -> None:
        self.service = service

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if self.service is None:
            return
        openid = ids.raw_id(ids.WECHAT, recipient_id)
        await self.service.push(openid, [message])

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})
