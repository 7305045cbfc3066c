"""Flame graphs of the Rasa server and the action server under the mixed REST load (issue 14).

    .venv/bin/python -m bench.flamegraphs                    # 45 s at 50 Hz, 20 conversations at a time
    .venv/bin/python -m bench.flamegraphs --seconds 30 --concurrency 10 --out /tmp/perf
    .venv/bin/python -m bench.flamegraphs --compare          # make profile: TED cache off, then on (issue 25);
                                                             # the ranked table goes into docs/benchmarks.md

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
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.docs import BENCH_DOC, replace_section
from bench.load import percentiles, run_load
from harness.paths import ROOT, VENV_BIN
from harness.procs import Proc, start
from harness.stacks import AssistantStack

PY_SPY = str(VENV_BIN / "py-spy")
IDLE = "idle (event loop waiting; not in the shares)"
OUT = ROOT / "docs" / "perf"
RAW = ROOT / "results" / "perf-profile"  # collapsed stacks (not committed)
PROFILE_START, PROFILE_END = "<!-- profile:start -->", "<!-- profile:end -->"
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
GUARD = ("server/patches/output.py", "credit/guard/", "credit/compliance.py")
LOGGING = ("logging/__init__.py", "server/log_masking.py", "server/patches/logs.py", "credit/text/masking.py")
RASA_CATEGORIES: List[Rule] = [
    ("output guard: compliance check of every bot message (issue 29)", (GUARD,)),
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
    ("action calls: the tracker serialised for the action server", (ACTION, ("current_state", "as_dialogue"))),
    ("action calls: HTTP client (aiohttp, JSON)", (ACTION, ("aiohttp", "endpoints.py", "json"))),
    ("action calls: applying events, templates", (ACTION,)),
    ("lock store", (("lock_store",),)),
    ("logging and masking of logs", (LOGGING,)),
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


def profile(args: argparse.Namespace, out: Path, env: Dict[str, str], flows: Optional[Dict[str, Any]] = None,
            root: Path = ROOT) -> Dict[str, Any]:
    """One profiled run of ``flows`` (the mix) at ``args.concurrency`` on the code in ``root``: flame graphs
    into ``out``, the breakdown returned."""
    from ops.model_cache import dev_model

    flows = flows or MIXED
    out.mkdir(parents=True, exist_ok=True)
    RAW.mkdir(parents=True, exist_ok=True)
    stack = AssistantStack(dev_model(), env=env, root=root).start()
    try:
        asyncio.run(run_load(stack.url, 3, 1, flows=flows, prefix="warm"))
        assert stack.rasa is not None and stack.actions is not None
        work = stack.workdir
        spies = []
        for name, pid in (("rasa-server", stack.rasa.pid), ("action-server", stack.actions.pid)):
            spies.append(spy(pid, "flamegraph", out / f"{name}.svg", args.seconds, args.rate, work / "spy.log"))
            spies.append(spy(pid, "raw", RAW / f"{name}.txt", args.seconds, args.rate, work / "spy.log"))
        time.sleep(1.5)  # py-spy attaches
        load_at_start = [round(x, 2) for x in os.getloadavg()]
        load = asyncio.run(run_load(stack.url, 40 * args.seconds, args.concurrency, flows=flows, prefix="prof",
                                    max_seconds=args.seconds - 3))
        answered = [t for t in load.turns if t.status]  # the rest were never sent (time limit)
        for proc in spies:
            proc.popen.wait(timeout=args.seconds + 60)
        turns = sum(1 for t in answered if t.ok)
        return {"seconds": args.seconds, "rate_hz": args.rate, "concurrency": args.concurrency, "env": env,
                "turns_ok": turns, "errors": sum(1 for t in answered if not t.ok),
                "latency": percentiles([t.latency for t in answered]),
                "load_average_at_start": load_at_start, "load_average": [round(x, 2) for x in os.getloadavg()],
                "rasa_server": breakdown(collapsed(RAW / "rasa-server.txt"), RASA_CATEGORIES, args.rate, turns),
                "action_server": breakdown(collapsed(RAW / "action-server.txt"), ACTION_CATEGORIES, args.rate,
                                           turns)}
    finally:
        stack.stop()


def ranked_table(before: Dict[str, Any], after: Dict[str, Any]) -> List[str]:
    """Busy ms per turn by category, ranked by the cost before, both processes."""
    lines = ["| process | cost | before ms / turn | after ms / turn | share after |", "|---|---|---:|---:|---:|"]
    for process in ("rasa_server", "action_server"):
        b, a = before[process], after[process]
        for cat in sorted(set(b) | set(a), key=lambda c: -b.get(c, {}).get("cpu_ms_per_turn", 0.0)):
            if cat == IDLE:
                continue
            share = a.get(cat, {}).get("share")
            lines.append(f"| {process.replace('_', ' ')} | {cat} | {b.get(cat, {}).get('cpu_ms_per_turn', 0.0)} | "
                         f"{a.get(cat, {}).get('cpu_ms_per_turn', 0.0)} | "
                         f"{'' if share is None else f'{share:.1%}'} |")
        total_b = round(sum(v["cpu_ms_per_turn"] for c, v in b.items() if c != IDLE), 1)
        total_a = round(sum(v["cpu_ms_per_turn"] for c, v in a.items() if c != IDLE), 1)
        lines.append(f"| {process.replace('_', ' ')} | **total busy** | **{total_b}** | **{total_a}** | |")
    return lines


def compare_section(before: Dict[str, Any], after: Dict[str, Any], command: str) -> str:
    def run(d: Dict[str, Any]) -> str:
        return (f"{d['turns_ok']} turns in {d['seconds']} s, {d['errors']} errors, p50 {d['latency']['p50_ms']} ms, "
                f"p95 {d['latency']['p95_ms']} ms, load average {d['load_average_at_start'][0]} at the start")
    return "\n".join([
        PROFILE_START, "## Where a turn's CPU goes, before and after the TED cache (issue 25)", "",
        f"Command: `{command}`, run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. The same build twice, "
        f"{before['concurrency']} conversations at a time, the mixed conversation, `py-spy --nonblocking` at "
        f"{before['rate_hz']} Hz on both servers: **before** with `TED_CACHE_SIZE=0` (every prediction runs "
        "TensorFlow, as plain `TEDPolicy` does) — " + run(before) + "; **after** with the cache on — " + run(after) +
        ". Busy milliseconds per turn (py-spy counts a thread blocked in fsync as busy), ranked by the cost before. "
        "Flame graphs of the after run: [Rasa server](perf/rasa-server.svg), [action server](perf/action-server.svg); "
        "both breakdowns: `docs/perf/profile-summary.json`.", "", *ranked_table(before, after), "", PROFILE_END])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--compare", action="store_true",
                        help="profile twice, TED cache off then on, and write the ranked table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not args.compare:
        summary = profile(args, args.out, {})
        (args.out / "profile-summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    before = profile(args, args.out / "before", {"TED_CACHE_SIZE": "0"})
    after = profile(args, args.out, {})
    (args.out / "profile-summary.json").write_text(
        json.dumps({"before (TED_CACHE_SIZE=0)": before, "after": after}, ensure_ascii=False, indent=2) + "\n")
    for svg in (args.out / "before").glob("*.svg"):  # only the after run's graphs are kept in docs/perf
        svg.unlink()
    (args.out / "before").rmdir()
    command = "make profile (.venv/bin/python -m bench.flamegraphs " + " ".join(argv or sys.argv[1:]) + ")"
    replace_section(compare_section(before, after, command), PROFILE_START, PROFILE_END, BENCH_DOC)
    print(f">> updated {BENCH_DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
