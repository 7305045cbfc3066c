"""Flame graphs of the Rasa server and the action server under the mixed REST load (issue 14).

    .venv/bin/python -m bench.flamegraphs                    # 45 s at 50 Hz, 10 conversations at a time
    .venv/bin/python -m bench.flamegraphs --seconds 30 --concurrency 20 --out /tmp/perf

Starts the assistant (``harness.stacks.AssistantStack``: dev model, seeded loan database, action
server, hardened Rasa server, SQLite tracker store), warms it up, then samples both server processes
with py-spy ``--nonblocking`` (the servers are never paused, so the load sees no profiler stalls)
while ``bench.load`` drives the mixed conversation of ``bench.latency`` (a rate question, a progress
check with ID verification, thanks) through REST.  Writes, into ``--out`` (default docs/perf/):

* ``rasa-server.svg`` and ``action-server.svg``: the flame graphs (py-spy, no line numbers);
* ``profile-summary.json``: turns in the window, and on-CPU milliseconds per turn by category, read
  from the collapsed stacks (kept in results/perf-profile/, not committed; a sample is counted once,
  in the first category of ``RASA_CATEGORIES`` / ``ACTION_CATEGORIES`` whose frame groups it matches).

py-spy samples on-CPU Python stacks only (idle threads are left out): waits on the lock store, on
the action server or on the disk are seen in the wall-clock latencies of ``bench.latency``, not here.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bench.load import percentiles, run_load
from harness.paths import ROOT, VENV_BIN
from harness.procs import Proc, start
from harness.stacks import AssistantStack

PY_SPY = str(VENV_BIN / "py-spy")
IDLE = "idle (event loop waiting; not in the shares)"
OUT = ROOT / "docs" / "perf"
RAW = ROOT / "results" / "perf-profile"  # collapsed stacks (not committed)
MIXED = {"mixed": [("你们的贷款利息多少", "年化"), ("查进度", "申请编号"), ("SQ202611200001", "身份证"),
                   ("1234", "审批中"), ("谢谢", None)]}

# (category, groups): a sample belongs to the first category all of whose groups match, a group
# matching when one of its substrings is in one of the sample's frames ("function (file)").
Rule = Tuple[str, Tuple[Tuple[str, ...], ...]]
SAVE = ("save_tracker (rasa/core/processor.py", "sql_save")
READ = ("retrieve",)
NLU = ("parse_message (rasa/core/processor.py",)
POLICY = ("_predict_next_with_tracker",)
ACTION = ("rasa/core/actions/",)
RASA_CATEGORIES: List[Rule] = [
    ("tracker store write: SQLite commit (fsync, synchronous=FULL)", (SAVE, ("commit (",))),
    ("tracker store write: masking at rest", (SAVE, ("at_rest", "masking"))),
    ("tracker store write: serialise + SQL insert", (SAVE,)),
    ("tracker store read: deserialisation + replay of all events", (READ, ("from_dict", "trackers.py", "events.py"))),
    ("tracker store read: SQL query", (READ,)),
    ("NLU: jieba tokeniser", (NLU, ("jieba",))),
    ("NLU: entity extraction (credit/entities.py)", (NLU, ("credit_entities", "credit/"))),
    ("NLU: DIET classifier (TensorFlow)", (NLU, ("diet", "tensorflow/", "keras/"))),
    ("NLU: sparse featurisers (CountVectors, lexical, regex)", (NLU, ("featurizer",))),
    ("NLU: custom components (nlu_components/)", (NLU, ("nlu_components/",))),
    ("NLU: graph, messages, fallback", (NLU,)),
    ("policy: TED (TensorFlow inference)", (POLICY, ("tensorflow/", "keras/", "rasa/utils/tensorflow"))),
    ("policy: TED featurisation of the tracker", (POLICY, ("ted_policy", "featurizer"))),
    ("policy: UnexpecTED intent", (POLICY, ("unexpected_intent",))),
    ("policy: memoization", (POLICY, ("memoization",))),
    ("policy: rules", (POLICY, ("rule_policy",))),
    ("policy: ensemble, graph, tracker copies", (POLICY,)),
    ("action calls: JSON-schema validation of responses", (ACTION, ("jsonschema",))),
    ("action calls: HTTP client (aiohttp, JSON)", (ACTION, ("aiohttp", "endpoints.py", "json"))),
    ("action calls: applying events, templates", (ACTION,)),
    ("lock store", (("lock_store",),)),
    ("turn: events, slots, session start", (("rasa/core/processor.py", "rasa/shared/core/"),)),
    ("REST channel, Sanic, middleware", (("sanic/", "connectors/", "server/middleware.py", "rasa/server.py"),)),
]
ACTION_CATEGORIES: List[Rule] = [
    ("loan DB (SQLAlchemy/SQLite)", (("sqlalchemy/", "sqlite3"),)),
    ("business logic (credit/)", (("credit/",),)),
    ("actions/ glue and form validation", (("actions/",),)),
    ("request JSON (tracker from Rasa)", (("json",),)),
    ("rasa-sdk (executor, forms, dispatch)", (("rasa_sdk/",),)),
    ("Sanic HTTP", (("sanic/",),)),
]
# A sample whose innermost Python frame is the server's event loop is a wait in native code (uvloop's
# epoll) that --nonblocking sampling cannot tell from work: idle, left out.
IDLE_LEAVES = ("run (sanic/app.py", "serve (sanic/server/runners.py", "serve_single (", "run_forever (",
               "_run_once (", "select (selectors.py")


def classify(stack: str, rules: Sequence[Rule]) -> str:
    frames = stack.split(";")
    if frames[-1].startswith(IDLE_LEAVES):
        return IDLE
    for label, groups in rules:
        if all(any(n in f for f in frames for n in group) for group in groups):
            return label
    return "other (interpreter, logging)"


def collapsed(path: Path) -> Counter:
    """py-spy's raw format: ``frame;frame;... count`` per line."""
    counts: Counter = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[stack] += int(n)
    return counts


def breakdown(counts: Counter, rules: Sequence[Rule], rate: int, turns: int) -> Dict[str, Dict[str, float]]:
    by: Counter = Counter()
    for stack, n in counts.items():
        by[classify(stack, rules)] += n
    idle = by.pop(IDLE, 0)
    total = sum(by.values()) or 1
    by[IDLE] = idle
    return {label: {"samples": n, "share": round(n / total, 3) if label != IDLE else None,
                    "cpu_ms_per_turn": round(n / rate * 1000 / max(1, turns), 2)}
            for label, n in by.most_common()}


def spy(pid: int, fmt: str, out: Path, seconds: int, rate: int, log: Path) -> Proc:
    cmd = [PY_SPY, "record", "--pid", str(pid), "--rate", str(rate), "--duration", str(seconds), "--nonblocking",
           "--nolineno", "--format", fmt, "--output", str(out)]
    return start(f"py-spy-{pid}-{fmt}", cmd, {}, log)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from ops.model_cache import dev_model

    args.out.mkdir(parents=True, exist_ok=True)
    RAW.mkdir(parents=True, exist_ok=True)
    stack = AssistantStack(dev_model()).start()
    try:
        asyncio.run(run_load(stack.url, 3, 1, flows=MIXED, prefix="warm"))
        assert stack.rasa is not None and stack.actions is not None
        work = stack.workdir
        spies = []
        for name, pid in (("rasa-server", stack.rasa.pid), ("action-server", stack.actions.pid)):
            spies.append(spy(pid, "flamegraph", args.out / f"{name}.svg", args.seconds, args.rate, work / "spy.log"))
            spies.append(spy(pid, "raw", RAW / f"{name}.txt", args.seconds, args.rate, work / "spy.log"))
        time.sleep(1.5)  # py-spy attaches
        load = asyncio.run(run_load(stack.url, 40 * args.seconds, args.concurrency, flows=MIXED, prefix="prof",
                                    max_seconds=args.seconds - 3))
        answered = [t for t in load.turns if t.status]  # the rest were never sent (time limit)
        for proc in spies:
            proc.popen.wait(timeout=args.seconds + 60)
        turns = sum(1 for t in answered if t.ok)
        summary = {"seconds": args.seconds, "rate_hz": args.rate, "concurrency": args.concurrency,
                   "turns_ok": turns, "errors": sum(1 for t in answered if not t.ok),
                   "latency": percentiles([t.latency for t in answered]),
                   "load_average": [round(x, 2) for x in os.getloadavg()],
                   "rasa_server": breakdown(collapsed(RAW / "rasa-server.txt"), RASA_CATEGORIES, args.rate, turns),
                   "action_server": breakdown(collapsed(RAW / "action-server.txt"), ACTION_CATEGORIES, args.rate,
                                              turns)}
    finally:
        stack.stop()
    (args.out / "profile-summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    for name in ("rasa-server.svg", "action-server.svg"):
        print(f">> {args.out / name}: {(args.out / name).stat().st_size // 1024} KB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
