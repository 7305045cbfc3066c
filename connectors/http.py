"""HTTP helpers shared by the channel webhooks: bilingual errors, body limits and a
guard that turns any unexpected failure into a logged, trace-free response."""
from __future__ import annotations

import functools
import json
import logging
from typing import Any, Awaitable, Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[HTTPResponse]]


class ChannelError(Exception):
    """A request the channel refuses; becomes a JSON or text error response."""

    def __init__(self, status: int, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en = status, code, zh, en


def bad_request(code: str, zh: str, en: str) -> ChannelError:
    return ChannelError(400, code, zh, en)


def json_error(error: ChannelError) -> HTTPResponse:
    return response.json(
        {"error": {"code": error.code, "message": error.en, "message_zh": error.zh}},
        status=error.status,
        ensure_ascii=False,
    )


def text_error(error: ChannelError) -> HTTPResponse:
    return response.text(f"{error.zh} / {error.en}", status=error.status)


def parse_json(body: bytes) -> Any:
    """A body that must be UTF-8 JSON; anything else is a bilingual 400.  The one JSON body
    parser: the channel webhooks and the hardened server's middleware all read bodies here."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("malformed_json", "请求体不是合法的 UTF-8 JSON", "body is not valid UTF-8 JSON") from None


def parse_json_object(body: bytes) -> dict:
    """A request body that must be a UTF-8 JSON object; anything else is a bilingual 400."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise bad_request("wrong_type", "请求体应为 JSON 对象", "body must be a JSON object")
    return data


def check_body_size(request: Request, limit: int) -> bytes:
    body = request.body or b""
    if len(body) > limit:
        raise ChannelError(
            413, "body_too_large", f"请求体过大（上限 {limit} 字节）", f"request body too large (limit {limit} bytes)"
        )
    return body


def guarded(channel: str,
            render_error: Callable[[ChannelError], HTTPResponse] = json_error) -> Callable[[Handler], Handler]:
    """Refusals become 4xx with a clear message; anything unexpected is logged with its
    traceback server-side and answered without one."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                return await handler(request, *args, **kwargs)
            except ChannelError as error:
                logger.warning("%s: refused %s %s: %s (%s)", channel, request.method, request.path, error.en,
                               error.status)
                return render_error(error)
            except Exception:  # noqa: BLE001 - never leak a stack trace to the caller
                logger.exception("%s: unexpected failure handling %s %s", channel, request.method, request.path)
                return render_error(ChannelError(500, "internal_error", "服务器内部错误", "internal server error"))

        return wrapper

    return decorate


def env_float(environ: Any, name: str, default: float, minimum: float | None = None) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    if minimum is not None and value < minimum:
        logger.warning("%s=%r is below %s; using %s", name, raw, minimum, minimum)
        return minimum
    return value


def webhook_blueprint(name: str, channel: str, enabled: bool, disabled_zh: str, disabled_en: str,
                      methods: tuple[str, ...] = ("GET", "POST"),
                      render_error: Callable[[ChannelError], HTTPResponse] = json_error) -> Blueprint:
    """A channel's blueprint with its health route; a disabled channel answers its webhook with 404."""

    webhook = Blueprint(name, __name__)

    @webhook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok" if enabled else "disabled"})

    if not enabled:

        @webhook.route("/webhook", methods=list(methods))
        @guarded(channel, render_error)
        async def disabled(_: Request) -> HTTPResponse:
            raise ChannelError(404, "disabled", disabled_zh, disabled_en)

    return webhook
