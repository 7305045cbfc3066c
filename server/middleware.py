"""Sanic middleware of the hardened server (installed by :mod:`server.patches.app`).

* REST access control (:mod:`server.auth`): the REST channel answers loopback callers, or
  any caller with ``REST_AUTH_TOKEN`` as bearer token;
* the ``X-Degraded`` response header naming why an answer was degraded;
* the REST last line against silence: a REST turn that answered nothing gets
  :data:`server.guard.NO_REPLY`, a 5xx after a turn gets :data:`server.guard.BUSY` (503),
  a 5xx before any turn (the channel could not read the body) becomes a bilingual 400;
* log masking re-installed once Rasa and Sanic have configured their handlers.

Request and response bodies are read with :func:`connectors.http.parse_json`, the one JSON
body parser of the project.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from connectors.http import ChannelError, parse_json
from credit.text.masking import install_log_masking
from server import auth, guard
from server.settings import Settings

logger = logging.getLogger("server.hardening")

BAD_BODY_ZH = "请求体无法解析，请发送 JSON 对象 {\"sender\": ..., \"message\": ...}"


def _json_or_none(body: bytes) -> Any:
    try:
        return parse_json(body)
    except ChannelError:
        return None


def _sender(request: Any) -> Optional[str]:
    payload = _json_or_none(request.body or b"")
    if isinstance(payload, dict) and isinstance(payload.get("sender"), str):
        return payload["sender"]
    return None


def _route_path(request: Any) -> Optional[str]:
    return getattr(getattr(request, "route", None), "path", None)


def _is_rest_turn(request: Any, response: Any) -> bool:
    return (request.method == "POST" and auth.is_protected(request.path, _route_path(request))
            and str(request.path).rstrip("/").endswith("/webhook")
            and getattr(response, "status", 0) not in (401, 403)
            and "event-stream" not in (getattr(response, "content_type", "") or ""))


def install(app: Any, settings: Settings) -> None:
    """REST access control, the ``X-Degraded`` header and the REST no-silence guard."""
    from sanic import response as sanic_response

    async def on_request(request: Any) -> Any:
        request.ctx.credit = guard.start_request()
        if not auth.is_protected(request.path, _route_path(request)):
            return None
        decision = auth.decide(request.ip, request.headers, settings.rest_auth_token)
        if decision.allowed:
            return None
        logger.warning("REST %s %s refused for %s: %s", request.method, request.path, request.ip, decision.code)
        headers = {"WWW-Authenticate": 'Bearer realm="rest"'} if decision.status == 401 else {}
        return sanic_response.json(
            {"error": {"code": decision.code, "message": decision.message, "message_zh": decision.message_zh}},
            status=decision.status, headers=headers, ensure_ascii=False)

    async def on_response(request: Any, response: Any) -> Any:
        state: guard.RequestState = getattr(request.ctx, "credit", None) or guard.RequestState()
        reasons = list(state.degraded)
        replaced = None
        if _is_rest_turn(request, response):
            status = getattr(response, "status", 200)
            body = _json_or_none(getattr(response, "body", b"") or b"")
            sender = _sender(request)
            if status >= 500 and state.turns == 0:
                # the channel failed before any dialogue turn: it could not read the request
                logger.warning("REST request refused: the channel could not read the body (%s)", status)
                replaced = sanic_response.json(
                    {"error": {"code": "bad_request", "message": "the request body could not be read",
                               "message_zh": BAD_BODY_ZH}},
                    status=400, ensure_ascii=False)
            elif status >= 500:
                reasons.append("internal_error")
                replaced = sanic_response.json(guard.ensure_reply([], sender, guard.BUSY), status=503,
                                               headers={"Retry-After": "5"}, ensure_ascii=False)
            elif status == 200 and isinstance(body, list) and not any(
                    isinstance(m, dict) and guard.is_visible(m) for m in body):
                reasons.append("no_reply")
                replaced = sanic_response.json(guard.ensure_reply(body, sender), ensure_ascii=False)
        target = replaced or response
        if reasons:
            try:
                target.headers["X-Degraded"] = ",".join(dict.fromkeys(reasons))
            except Exception:  # noqa: BLE001
                pass
        return replaced

    app.register_middleware(on_request, "request")
    app.register_middleware(on_response, "response")

    async def mask_logs_after_start(*_: Any) -> None:
        install_log_masking()  # handlers configured by Rasa/Sanic by now get the filter too

    app.register_listener(mask_logs_after_start, "after_server_start")
