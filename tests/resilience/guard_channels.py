"""Test-only: one customer turn on each channel of a running assistant, as that channel's customer (or
platform) would send it, and what the customer got back.

REST and web chat (socket.io, Rasa's protocol) are the assistant's own; WeChat, Twilio and the JSON IVR
are NOT the vendors: their documented wire formats (signed callbacks, TwiML, the IVR JSON) spoken against
the running server, and the WeChat API stand-in (``harness.wechat_api``) that receives what is pushed.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, List

from harness.calls import IvrCaller, TwilioCaller
from harness.http import http
from tests.channels.wechat import sim as w

TWILIO_TOKEN = "test-twilio-token"
IVR_SECRET = "test-ivr-secret"
QUESTION = "你们的贷款利息多少"  # a custom action answers it (action_quote_rate)


@dataclass
class Delivered:
    conversation: str
    texts: List[str] = field(default_factory=list)  # what the customer read or heard
    handoff: bool = False
    raw: List[str] = field(default_factory=list)  # every body the channel sent back (payloads included)

    def joined(self) -> str:
        return "\n".join(self.texts)


def rest(url: str, arm: Callable[[str], None], text: str = QUESTION) -> Delivered:
    sender = f"guard-{uuid.uuid4().hex[:12]}"
    out = Delivered(f"rest:{sender}")
    arm(out.conversation)
    answer = http("POST", f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=60)
    assert answer.status == 200, answer.text[:300]
    out.raw.append(answer.text)
    for message in answer.json():
        if message.get("text"):
            out.texts.append(message["text"])
        if (message.get("custom") or {}).get("type") == "handoff":
            out.handoff = True
    return out


def webchat(url: str, arm: Callable[[str], None], text: str = QUESTION) -> Delivered:
    session_id = uuid.uuid4().hex
    out = Delivered(f"web:{session_id}")
    arm(out.conversation)
    asyncio.run(_webchat_turn(url, session_id, text, out))
    return out


async def _webchat_turn(url: str, session_id: str, text: str, out: Delivered, timeout: float = 60) -> None:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    inbox: "asyncio.Queue[Any]" = asyncio.Queue()
    typing: "asyncio.Queue[bool]" = asyncio.Queue()
    client.on("bot_uttered", lambda data: inbox.put_nowait(data))
    client.on("bot_typing", lambda data: typing.put_nowait(bool((data or {}).get("typing"))))
    await client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
    try:
        await client.emit("session_request", {"session_id": session_id})
        await client.emit("user_uttered", {"message": text, "session_id": session_id})
        while await asyncio.wait_for(typing.get(), timeout):  # typing on ... typing off: the turn is over
            pass
        await asyncio.sleep(0.2)
        while not inbox.empty():
            payload = inbox.get_nowait()
            out.raw.append(json.dumps(payload, ensure_ascii=False))
            if payload.get("text"):
                out.texts.append(payload["text"])
            if payload.get("handoff"):
                out.handoff = True
    finally:
        await client.disconnect()


def wechat(url: str, arm: Callable[[str], None], api: Any, text: str = QUESTION, settle_s: float = 8.0) -> Delivered:
    """A signed plain-mode callback; the passive reply plus what reaches the customer-service API."""
    openid = w.new_openid()
    out = Delivered(f"wx:{openid}")
    arm(out.conversation)
    request = w.plain_request(w.text_xml(openid, text))
    reply = http("POST", request.url(url), raw=request.body, headers={"Content-Type": "text/xml"}, timeout=60)
    assert reply.status == 200, reply.text[:300]
    out.raw.append(reply.text)
    if reply.text.strip() not in ("", "success"):
        opened = w.open_reply(reply.text)
        if opened.get("MsgType") == "transfer_customer_service":
            out.handoff = True
        elif opened.get("Content"):
            out.texts.append(opened["Content"])
    deadline = time.monotonic() + settle_s
    seen = -1
    while time.monotonic() < deadline:  # pushed messages arrive after the passive reply; wait until quiet
        pushed = [m for m in api.messages if m.get("touser") == openid]
        if len(pushed) == seen and (out.texts or pushed):
            break
        seen = len(pushed)
        time.sleep(1.0)
    pushed = [m for m in api.messages if m.get("touser") == openid]
    out.texts += [m.get("text", {}).get("content", "") for m in pushed]
    out.raw += [json.dumps(m, ensure_ascii=False) for m in pushed]
    return out


def _call(client: Any, conversation: str, arm: Callable[[str], None], text: str) -> Delivered:
    out = Delivered(conversation)
    arm(out.conversation)
    for step in (("call_start",), ("speech", text, "0.95")):
        exchange = client.send(step)
        out.texts += exchange.prompts
        out.raw.append(exchange.raw)
        if exchange.action == "transfer":
            out.handoff = True
            break
    return out


def twilio(url: str, arm: Callable[[str], None], text: str = QUESTION) -> Delivered:
    sid = "CA" + uuid.uuid4().hex
    return _call(TwilioCaller(url, TWILIO_TOKEN, sid, "+8613800001234", 60), f"tel:{sid}", arm, text)


def ivr(url: str, arm: Callable[[str], None], text: str = QUESTION) -> Delivered:
    call_id = f"guard-{uuid.uuid4().hex[:16]}"
    return _call(IvrCaller(url, IVR_SECRET, call_id, "+8613800001234", 60), f"ivr:{call_id}", arm, text)
