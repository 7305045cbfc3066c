#!/usr/bin/env python3
"""Play a whole telephone call against a running assistant and print what the caller hears.

    .venv/bin/python scripts/simulate_call.py                       # JSON IVR webhook, demo call
    .venv/bin/python scripts/simulate_call.py --channel twilio      # same call as Twilio would make it
    .venv/bin/python scripts/simulate_call.py --app SQ202604200005 --id-last4 246X
    .venv/bin/python scripts/simulate_call.py --steps 'start; dtmf 1; say 利率是多少 0.42; say 对; say 再见'

The default call: call start -> main menu -> DTMF 2 (申请进度) -> the 12 digits of the
application number (SQ implied) -> the last four ID digits (* for X) -> the status is
read out -> "再见" -> the assistant hangs up.

Secrets come from the environment like the server's (IVR_SHARED_SECRET,
TWILIO_AUTH_TOKEN); ``--url`` defaults to http://localhost:5005.  Exit status 0 when the
call ended with a hang-up or transfer, 1 otherwise.  Importable: ``play_call(...)``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.ivr.signature import sign as ivr_sign  # noqa: E402

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


def _post(url: str, body: bytes, headers: Dict[str, str], timeout: float) -> Tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")


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
        status, text = _post(self.url, body, headers, self.timeout)
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
        status, text = _post(self.base_url + path, body, headers, self.timeout)
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


def _describe(step: Step) -> str:
    if step[0] == "call_start":
        return "📞 来电接通"
    if step[0] == "dtmf":
        return f"⌨  按键 {step[1]}"
    if step[0] == "speech":
        return f"🗣  说: {step[1]} (置信度 {step[2] if len(step) > 2 else '0.9'})"
    if step[0] == "no_input":
        return "…  (没有输入)"
    return "📴 挂机"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="模拟一通完整的电话 (IVR JSON 或 Twilio)")
    parser.add_argument("--url", default=os.environ.get("RASA_URL", "http://localhost:5005"))
    parser.add_argument("--channel", choices=["ivr", "twilio"], default="ivr")
    parser.add_argument("--secret", help="IVR_SHARED_SECRET / TWILIO_AUTH_TOKEN (默认取环境变量)")
    parser.add_argument("--app", default="SQ202611200001", help="申请编号 (演示数据)")
    parser.add_argument("--id-last4", default="1234", help="身份证后四位，X 用 * 键入")
    parser.add_argument("--steps", help="自定义步骤, 例如 'start; dtmf 1; say 再见 0.9'")
    parser.add_argument("--caller", default="+8613800001234")
    parser.add_argument("--json", action="store_true", help="输出 JSON 而不是对话记录")
    parser.add_argument("--delay", type=float, default=0.0, help="每步之间等待的秒数")
    args = parser.parse_args(argv)

    steps = parse_steps(args.steps) if args.steps else default_steps(args.app, args.id_last4)
    try:
        exchanges = play_call(args.url, steps, args.channel, args.secret, caller=args.caller, delay=args.delay)
    except (OSError, RuntimeError) as error:
        print(f"呼叫失败: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"sent": list(e.sent), "prompts": e.prompts, "action": e.action, "input": e.input}
                          for e in exchanges], ensure_ascii=False, indent=2))
    else:
        for exchange in exchanges:
            print(_describe(exchange.sent))
            for prompt in exchange.prompts:
                print(f"   🤖 {prompt}")
            if exchange.action != "continue":
                print(f"   ➜ {'转接人工' if exchange.action == 'transfer' else '挂机'}")
    return 0 if exchanges and exchanges[-1].action in ("hangup", "transfer") else 1


if __name__ == "__main__":
    sys.exit(main())
