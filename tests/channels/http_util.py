"""Helpers for protocol tests over harness.http (raw bodies, any status, no exceptions on 4xx/5xx)."""
from __future__ import annotations

import json
from typing import Dict, Optional

from harness.http import Response, http
from harness.rasa import tracker_path

Reply = Response  # .status, .text, .content_type


def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None, timeout: float = 60.0) -> Reply:
    return http("POST", url, raw=body, headers=headers, timeout=timeout)


def get(url: str, timeout: float = 30.0) -> Reply:
    return http("GET", url, timeout=timeout)


def assert_clean_error(reply: Reply) -> None:
    """A refusal: 4xx, no stack trace, no server internals."""
    assert 400 <= reply.status < 500, (reply.status, reply.text[:300])
    for leak in ("Traceback", "File \"/", "Exception", "sanic.", "rasa."):
        assert leak not in reply.text, reply.text[:300]


def tracker(stack, sender_id: str) -> dict:
    """GET /conversations/<id>/tracker with the API token (``:`` unescaped, see harness.rasa.tracker_path)."""
    import urllib.parse

    token = urllib.parse.quote(stack.env.get("RASA_AUTH_TOKEN", "test-rasa-token"))
    reply = get(f"{stack.rasa_url}{tracker_path(sender_id)}?token={token}")
    assert reply.status == 200, reply.text[:300]
    return json.loads(reply.text)


def user_turns(stack, sender_id: str) -> list:
    return [e for e in tracker(stack, sender_id)["events"] if e.get("event") == "user"]


def user_texts(stack, sender_id: str) -> list:
    return [e.get("text") for e in user_turns(stack, sender_id)]
