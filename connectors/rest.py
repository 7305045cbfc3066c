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

Bursts (:mod:`connectors.admission`): a message is either accepted, and then its turn runs to
the end and is stored even if the client leaves or times out, or refused *before* it is
accepted with ``429 Too Many Requests`` + ``Retry-After`` (code ``sender_busy``) when the
sender already has ``REST_MAX_QUEUED_PER_SENDER`` messages running or queued: a 429 message
was not stored, and the client sends it again.  ``?stream=true`` is admitted the same way.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from connectors import ids
from connectors.admission import RETRY_AFTER_S, Admission
from connectors.http import ChannelError, bad_request, check_body_size, guarded, json_error, parse_json_object

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

    def __init__(self) -> None:
        super().__init__()
        self.admission = Admission()

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
            if not self.admission.try_accept(sender_id):
                return busy()
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                stream = self.stream_response(on_new_message, text, sender_id, ids.REST, metadata)

                async def admitted_stream(resp: Any) -> None:
                    await self.admission.run_accepted(sender_id, stream(resp))

                return response.stream(admitted_stream, content_type="text/event-stream")
            collector = CollectingOutputChannel()
            try:
                turn = on_new_message(UserMessage(text, collector, sender_id, input_channel=ids.REST,
                                                  metadata=metadata))
            except Exception:
                self.admission.done(sender_id)  # never started: it does not count
                raise
            await self.admission.run_accepted(sender_id, turn)
            return response.json(collector.messages)

        return webhook

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        return None


def busy() -> HTTPResponse:
    """429: refused before it was accepted (not stored); the client sends the message again."""
    reply = json_error(ChannelError(
        429, "sender_busy",
        f"您前面还有多条消息正在处理，这条消息未被接收，请 {RETRY_AFTER_S} 秒后重新发送",
        f"too many messages of this sender are queued; this one was NOT accepted: send it again "
        f"after {RETRY_AFTER_S} s"))
    reply.headers["Retry-After"] = str(RETRY_AFTER_S)
    return reply
