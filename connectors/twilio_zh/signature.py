"""X-Twilio-Signature check with the twilio library's ``RequestValidator``.

The URL Twilio signed is the one configured in the Twilio console: ``PUBLIC_BASE_URL``
+ path (+ query) when set (behind a proxy the server cannot see it), else the request
URL as Sanic sees it.
"""
from __future__ import annotations

from typing import Any

from sanic.request import Request
from twilio.request_validator import RequestValidator

from connectors.http import ChannelError


def signed_url(request: Request, public_base_url: str | None) -> str:
    if public_base_url:
        query = request.query_string
        return public_base_url + request.path + (f"?{query}" if query else "")
    return request.url


def check_twilio_signature(request: Request, auth_token: str, public_base_url: str | None) -> None:
    signature = request.headers.get("X-Twilio-Signature") or ""
    if not signature:
        raise ChannelError(403, "missing_signature", "缺少 X-Twilio-Signature", "missing X-Twilio-Signature")
    try:
        params: Any = request.form if request.method == "POST" else {}
    except Exception:  # noqa: BLE001 - a body Sanic cannot parse
        raise ChannelError(400, "malformed_form", "表单格式错误", "malformed form body") from None
    if not RequestValidator(auth_token).validate(signed_url(request, public_base_url), params, signature):
        raise ChannelError(403, "bad_signature", "X-Twilio-Signature 无效", "invalid X-Twilio-Signature")
