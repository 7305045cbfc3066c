"""Play a whole telephone call against a running assistant: the JSON IVR webhook
(X-IVR-Signature) or Twilio (form posts, X-Twilio-Signature, TwiML), as the telephony
platform would.  ``scripts/simulate_call.py`` is its command line; the voice tests use
``play_call`` directly.

The default call: call start -> main menu -> DTMF 2 (申请进度) -> the 12 digits of the
application number (SQ implied) -> the last four ID digits (* for X) -> the status is
read out -> "再见" -> the assistant hangs up.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from connectors.ivr.signature import sign as ivr_sign
from harness.http import http

Step = Tuple[str, ...]  # ("call_start",) ("dtmf", "2") ("speech", "再见", "0.9") ("no_input",) ("hangup",)


@dataclass
class Exchange:
    sent: Step
    prompts: List[str]
    action: str  # continue | transfer | hangup
    input: Dict[str, Any] = field(default_factory=dict)
    raw: str = ""


def default_steps(application_id: str = "SQ202611200001", id_last4: str = "1234") -> List[Step]:
    digits = re.sub(r"\D", "", application_id)
    return [
        ("call_start",),
        ("dtmf", "2"),
        ("dtmf", digits),
        ("dtmf", id_last4.upper().replace("X", "*")),
        ("speech", "好的，再见", "0.93"),
    ]


def parse_steps(text: str) -> List[Step]:
    """``start; dtmf 2; say 再见 0.9; silence; hangup``."""
    steps: List[Step] = []
    for chunk in text.split(";"):
        words = shlex.split(chunk.strip())
        if not words:
            continue
        verb, args = words[0].lower(), words[1:]
        if verb in ("start", "call_start"):
            steps.append(("call_start",))
        elif verb == "dtmf" and args:
            steps.append(("dtmf", args[0]))
        elif verb in ("say", "speech") and args:
            steps.append(("speech", args[0], args[1] if len(args) > 1 else "0.9"))
        elif verb in ("silence", "no_input"):
            steps.append(("no_input",))
        elif verb == "hangup":
            steps.append(("hangup",))
        else:
            raise SystemExit(f"无法理解的步骤: {chunk!r}")
    return steps


class IvrCaller:
    def __init__(self, base_url: str, secret: str, call_id: str, caller: str, timeout: float) -> None:
        self.url = base_url.rstrip("/") + "/webhooks/ivr/webhook"
        self.secret, self.call_id, self.caller, self.timeout = secret, call_id, caller, timeout

    def send(self, step: Step) -> Exchange:
        payload: Dict[str, Any] = {"call_id": self.call_id, "event": step[0]}
        if step[0] == "call_start":
            payload.update(caller=self.caller, called="4008208820")
        elif step[0] == "dtmf":
            payload["digits"] = step[1]
        elif step[0] == "speech":
            payload.update(text=step[1], confidence=float(step[2]) if len(step) > 2 else 0.9)
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-IVR-Signature": ivr_sign(self.secret, body)}
        reply = http("POST", self.url, raw=body, headers=headers, timeout=self.timeout)
        status, text = reply.status, reply.text
        if status != 200:
            raise RuntimeError(f"IVR webhook answered {status}: {text[:300]}")
        data = json.loads(text)
        return Exchange(step, [p["text"] for p in data.get("prompts", [])], data["action"]["type"],
                        data.get("input") or {}, text)


class TwilioCaller:
    """Posts what Twilio posts: form fields, X-Twilio-Signature over URL + sorted params."""

    def __init__(self, base_url: str, auth_token: str, call_sid: str, caller: str, timeout: float,
                 public_base_url: Optional[str] = None) -> None:
        from twilio.request_validator import RequestValidator

        self.base_url = base_url.rstrip("/")
        self.public = (public_base_url or self.base_url).rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.call_sid, self.caller, self.timeout = call_sid, caller, timeout
        self.next_path = "/webhooks/twilio_zh/webhook"

    def send(self, step: Step) -> Exchange:
        params = {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "From": self.caller,
                  "To": "+864008208820", "CallStatus": "in-progress", "Direction": "inbound"}
        path = "/webhooks/twilio_zh/webhook"
        if step[0] == "dtmf":
            path = self.next_path
            params["Digits"] = step[1]
        elif step[0] == "speech":
            path = self.next_path
            params.update(SpeechResult=step[1], Confidence=step[2] if len(step) > 2 else "0.9")
        elif step[0] == "no_input":
            path = "/webhooks/twilio_zh/webhook?event=no_input"
        elif step[0] == "hangup":
            params["CallStatus"] = "completed"
        signature = self.validator.compute_signature(self.public + path, params)
        body = urllib.parse.urlencode(params).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        reply = http("POST", self.base_url + path, raw=body, headers=headers, timeout=self.timeout)
        status, text = reply.status, reply.text
        if status != 200:
            raise RuntimeError(f"twilio_zh webhook answered {status}: {text[:300]}")
        root = ET.fromstring(text)
        prompts = [el.text or "" for el in root.iter("Say")]
        gather = root.find("Gather")
        if gather is not None:
            action_url = gather.get("action") or "/webhooks/twilio_zh/webhook?event=gather"
            parsed = urllib.parse.urlsplit(action_url)
            self.next_path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            spec = {k: v for k, v in gather.attrib.items() if k != "action"}
            return Exchange(step, prompts, "continue", spec, text)
        action = "transfer" if root.find("Dial") is not None else "hangup"
        return Exchange(step, prompts, action, {}, text)


def make_caller(base_url: str, channel: str = "ivr", secret: Optional[str] = None, call_id: Optional[str] = None,
                caller: str = "+8613800001234", timeout: float = 60.0, public_base_url: Optional[str] = None) -> Any:
    if channel == "ivr":
        secret = secret or os.environ.get("IVR_SHARED_SECRET", "")
        client: Any = IvrCaller(base_url, secret, call_id or f"sim-{uuid.uuid4().hex[:16]}", caller, timeout)
    elif channel == "twilio":
        secret = secret or os.environ.get("TWILIO_AUTH_TOKEN", "")
        client = TwilioCaller(base_url, secret, call_id or "CA" + uuid.uuid4().hex, caller, timeout,
                              public_base_url or os.environ.get("PUBLIC_BASE_URL"))
    else:
        raise ValueError("channel must be 'ivr' or 'twilio'")
    if not secret:
        raise SystemExit("缺少共享密钥: 设置 IVR_SHARED_SECRET / TWILIO_AUTH_TOKEN 或使用 --secret")
    return client


def play_call(base_url: str, steps: Sequence[Step], channel: str = "ivr", secret: Optional[str] = None,
              call_id: Optional[str] = None, caller: str = "+8613800001234", timeout: float = 60.0,
              public_base_url: Optional[str] = None, delay: float = 0.0) -> List[Exchange]:
    """Send the steps in order; stops after a hang-up or transfer.  Returns the exchanges."""
    client = make_caller(base_url, channel, secret, call_id, caller, timeout, public_base_url)
    exchanges: List[Exchange] = []
    for index, step in enumerate(steps):
        if index and delay:
            time.sleep(delay)
        exchange = client.send(step)
        exchanges.append(exchange)
        if exchange.action != "continue":
            break
    return exchanges
