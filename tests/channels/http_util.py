"""Tiny HTTP client for protocol tests (raw bodies, any status, no exceptions on 4xx/5xx)."""
from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Dict, Optional


@dataclass
class Reply:
    status: int
    text: str
    content_type: str


def request(method: str, url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
            timeout: float = 60.0) -> Reply:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(response.status, response.read().decode("utf-8", errors="replace"),
                         response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode("utf-8", errors="replace"), error.headers.get("Content-Type", ""))


def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None, timeout: float = 60.0) -> Reply:
    return request("POST", url, body, headers, timeout)


def get(url: str, timeout: float = 30.0) -> Reply:
    return request("GET", url, None, None, timeout)


def assert_clean_error(reply: Reply) -> None:
    """A refusal: 4xx, no stack trace, no server internals."""
    assert 400 <= reply.status < 500, (reply.status, reply.text[:300])
    for leak in ("Traceback", "File \"/", "Exception", "sanic.", "rasa."):
        assert leak not in reply.text, reply.text[:300]


def tracker(stack, sender_id: str) -> dict:
    """GET /conversations/<id>/tracker with the API token.  ':' stays unescaped: Sanic 21.12
    does not unquote path parameters, so ``wx%3A...`` would name another conversation."""
    import json
    import urllib.parse

    sid = urllib.parse.quote(sender_id, safe=":@+=")
    token = urllib.parse.quote(stack.env.get("RASA_AUTH_TOKEN", "test-rasa-token"))
    reply = get(f"{stack.rasa_url}/conversations/{sid}/tracker?token={token}")
    assert reply.status == 200, reply.text[:300]
    return json.loads(reply.text)


def user_turns(stack, sender_id: str) -> list:
    return [e for e in tracker(stack, sender_id)["events"] if e.get("event") == "user"]


def user_texts(stack, sender_id: str) -> list:
    return [e.get("text") for e in user_turns(stack, sender_id)]
