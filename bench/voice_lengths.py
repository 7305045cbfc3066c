"""Spoken length of the answers to a dozen everyday questions on the phone (issue 28), measured as a caller
hears them: calls placed through ``twilio_zh`` signed with the twilio library's ``RequestValidator``
(``harness.calls``), every ``<Say>`` of a turn together, key menu included.

    .venv/bin/python -m bench.voice_lengths            # the dev model (trained once if missing)
    .venv/bin/python -m bench.voice_lengths --model models/dev/<hash>.tar.gz

Prints a Markdown table (docs/benchmarks.md, "Phone answers"): the spoken characters of the answer turn and
of every turn, the characters a TTS engine reads badly (brackets, 「」, ÷ × %, slashes, APP) and the answer's
opening words.  The twelve questions are the issue's; ``tests/e2e/test_voice_answers.py`` asserts the limits.
"""
from __future__ import annotations

import argparse
import re
import uuid
from pathlib import Path
from typing import List, Sequence, Tuple

from harness import calls
from harness.stacks import AssistantStack

Step = Tuple[str, ...]
QUESTIONS: Sequence[Tuple[str, str, Sequence[Step]]] = (
    ("prepayment", "提前还款要手续费吗", (("dtmf", "1"),)),
    ("repayment date", "我每个月几号还款", ()),
    ("upfront-fee warning", "放款前让我先交保证金是真的吗", ()),
    ("overdue rules", "逾期了会怎么样", ()),
    ("conditions and materials", "申请需要什么条件和材料", ()),
    ("method comparison", "等额本息和等额本金哪个利息少", ()),
    ("fees", "你们有哪些手续费", ()),
    ("rates", "你们的贷款利率是多少", ()),
    ("progress", "查一下我的申请进度", (("dtmf", "202611200001"), ("dtmf", "1234"))),
    ("human", "转人工客服", ()),
    ("settlement certificate", "我要开结清证明", ()),
    ("credit report", "逾期多久会上征信", ()),
)
HOSTILE = re.compile(r"[()（）「」÷×%％/／]|APP|App|app")
ENV = {"TWILIO_AUTH_TOKEN": "bench-twilio", "TWILIO_AGENT_NUMBER": "+8640082088200", "IVR_SHARED_SECRET": "bench",
       "RASA_AUTH_TOKEN": "bench-rasa-token"}


def measure(url: str) -> List[Tuple[str, str, List[int], str, str]]:
    rows = []
    for kind, question, more in QUESTIONS:
        exchanges = calls.play_call(url, [("call_start",), ("speech", question, "0.95"), *more], channel="twilio",
                                    secret=ENV["TWILIO_AUTH_TOKEN"], call_id="CA" + uuid.uuid4().hex)
        turns = ["".join(e.prompts) for e in exchanges[1:]]
        hostile = "".join(sorted({m for t in turns for m in HOSTILE.findall(t)}))
        rows.append((kind, question, [len(t) for t in turns], hostile, turns[-1][:40]))
    return rows


def table(rows: Sequence[Tuple[str, str, List[int], str, str]]) -> str:
    lines = ["| answer | question | spoken chars per turn (answer last) | TTS-hostile | answer opens with |",
             "|---|---|---|---|---|"]
    lines += [f"| {k} | {q} | {' / '.join(map(str, n))} | {h or '–'} | {o}… |" for k, q, n, h, o in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    if args.model is None:
        from ops.model_cache import dev_model

        args.model = dev_model()
    stack = AssistantStack(args.model, ENV, token=ENV["RASA_AUTH_TOKEN"]).start()
    try:
        print(table(measure(stack.url)))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
