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
call ended with a hang-up or transfer, 1 otherwise.  The caller itself is harness/calls.py.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional, Sequence

from harness.calls import Step, default_steps, parse_steps, play_call


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
