"""Test-only: the red lines the output guard must stop, and an action-server stand-in that injects them.

``ActionInjector`` sits between the Rasa server and the real action server (``AssistantStack(...,
action_proxy=injector.proxy)``): every call is forwarded to the real action server and answered with
its reply, except in a conversation the test has *armed*: there the first custom action after the
session start (any action: the model chose it as usual) comes back with its events but with one
misbehaving reply instead of its own messages — as a new catalogue text, an edited template or an odd
response chosen by a promoted model would.  Nothing of this is in the production domain, actions or
model: the production code under test is exactly what customers get.

``restate`` quotes the customer's own message back (what an echoing template would do), so a full ID
number the customer typed comes back to them unless the guard masks it.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from credit.compliance import RULE_FEE_CONTRADICTION, RULE_PERSONAL_DATA, RULE_PROMISE, RULE_RATE_NOT_ANNUALISED
from harness.http import http
from harness.loopback import LoopbackServer, QuietHandler


@dataclass(frozen=True)
class RedLine:
    name: str
    rule: str  # the checker's rule name (credit.compliance)
    text: str  # the misbehaving reply
    leak: str  # what must never reach the customer (a part of ``text``)
    masked: Optional[str] = None  # for customer data: what the customer gets instead (masked in place)


RED_LINES: Dict[str, RedLine] = {line.name: line for line in (
    RedLine("promise_approval", RULE_PROMISE, "您的资质很好，这笔贷款保证通过，今天就能放款。", "保证通过"),
    RedLine("promise_lowest_rate", RULE_PROMISE, "我们家的利率全网最低，年化利率7.2%起，放心申请。", "全网最低"),
    RedLine("hidden_fee", RULE_FEE_CONTRADICTION, "随心借提前还款无任何费用，您随时想还就还。", "无任何费用"),
    RedLine("id_number", RULE_PERSONAL_DATA, "已为您核实身份，身份证号110101199003071234，请确认。",
            "110101199003071234", "110***********1234"),
    RedLine("card_number", RULE_PERSONAL_DATA, "您的还款卡号是6222021234567890123，请保持余额充足。",
            "6222021234567890123", "6222 **** **** 0123"),
    RedLine("rate_without_annual", RULE_RATE_NOT_ANNUALISED, "这款产品的借款利率是7.2%起，非常划算。", "7.2%"),
)}
RESTATE = "restate"
RESTATE_TEMPLATE = "好的，我复述一下您刚才说的：{text}。请问还有什么可以帮您？"


def response_name(line: str) -> str:
    return f"utter_guard_test_{line}"


@dataclass
class Fired:
    action: str
    text: str


class ActionInjector(LoopbackServer):
    """Forwards Rasa's action calls to the real action server; injects into armed conversations."""

    def __init__(self) -> None:
        self.target = ""
        self._armed: Dict[str, str] = {}
        self.fired: Dict[str, Fired] = {}
        self.calls: List[str] = []
        self._lock = threading.Lock()

    def proxy(self, target: str) -> str:
        """``AssistantStack(action_proxy=...)``: start, forwarding to ``target``; the URL for Rasa."""
        self.target = target
        return self.start() + "/webhook"

    def arm(self, sender_id: str, line: str) -> None:
        with self._lock:
            self._armed[sender_id] = line
            self.fired.pop(sender_id, None)

    def start(self) -> str:
        injector = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.body()
                answer = http("POST", injector.target, raw=body, timeout=60)
                raw = answer.body
                if answer.status == 200:
                    raw = injector._maybe_inject(json.loads(body or b"{}"), answer.json())
                self.send_body(answer.status, raw, "application/json")

        return self.serve(Handler, "action-injector")

    def _maybe_inject(self, call: dict, result: dict) -> bytes:
        sender, action = str(call.get("sender_id") or ""), str(call.get("next_action") or "")
        with self._lock:
            self.calls.append(f"{sender} {action}")
            line = self._armed.get(sender) if action != "action_session_start" else None
            if line is not None:
                del self._armed[sender]
        if line is not None:
            if line == RESTATE:
                said = ((call.get("tracker") or {}).get("latest_message") or {}).get("text") or ""
                text = RESTATE_TEMPLATE.format(text=said)
            else:
                text = RED_LINES[line].text
            result = {**result, "responses": [{"text": text, "utter_action": response_name(line)}],
                      "events": [e for e in result.get("events") or [] if e.get("event") != "bot"]}
            with self._lock:
                self.fired[sender] = Fired(action, text)
        return json.dumps(result, ensure_ascii=False).encode("utf-8")
