"""REST channel with namespaced conversation ids (credentials.yml:
``connectors.rest.NamespacedRestInput:`` *instead of* ``rest:``).

Rasa's own ``rest`` channel uses the client's ``sender`` as the conversation id, so a
REST client could name ``wx:<openid>`` and continue a WeChat customer's verified
conversation.  This channel keeps Rasa's wire format and URL
(``POST /webhooks/rest/webhook`` ``{"sender": ..., "message": ...}`` -> list of bot
messages, ``?stream=true`` supported) but files every conversation under ``rest:``.

Like Rasa's ``CmdlineInput``, it has a name of its own (``rest_namespaced``) and keeps
the ``rest`` URL prefix, so it replaces Rasa's ``rest:`` entry (listing both would
register the same route twice).  Bodies are validated: 4xx with a bilingual message,
never a 500.
"""
from __future__ import annotations

import copy
import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from connectors import ids
from connectors.http import bad_request, check_body_size, guarded, parse_json_object

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGE_CHARS = 4000


def parse_body(body: bytes) -> Dict[str, Any]:
    data = parse_json_object(body)
    sender = data.get("sender")
    if not ids.is_valid_raw_id(sender):
        raise bad_request(
            "bad_sender",
            "sender 必填，最长 128 个字符，只能包含字母、数字和 _-.:@+=",
            "sender is required: up to 128 characters of [A-Za-z0-9_-.:@+=]",
        )
    message = data.get("message")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
        raise bad_request(
            "bad_message", f"message 必填，为不超过 {MAX_MESSAGE_CHARS} 字的字符串",
            f"message is required: a string of at most {MAX_MESSAGE_CHARS} characters",
        )
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise bad_request("wrong_type", "metadata 应为对象", "metadata must be an object")
    return {"sender": ids.namespaced(ids.REST, sender), "message": message, "metadata": metadata}


class NamespacedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest_namespaced"

    def url_prefix(self) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("namespaced_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        @guarded("rest")
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            data = parse_body(check_body_size(request, MAX_BODY_BYTES))
            sender_id, text, metadata = data["sender"], data["message"], data["metadata"]
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender_id, ids.REST, metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender_id, input_channel=ids.REST, metadata=metadata)
                )
            except CancelledError:
                logger.error("rest: message handling timed out: %r", copy.deepcopy(text)[:200])
            return response.json(collector.messages)

        return webhook

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        return None
