"""The output guard's cost per turn (issue 29: ≤ 1 ms at p95), measured on the replies of a benchmark run.

``make bench-perf`` (bench/latency.py) calls :func:`measure_run` in the same run, after its phases, on the
assistant's own tracker store and credit database: every bot message the benchmark mixes produced, grouped
by customer turn, goes through the guard's decision (:func:`credit.guard.review.review`, what
``server/patches/output.py`` runs on every message: the compliance checker over the text and its button
titles) in this process, each turn :data:`REPEAT` times; the per-turn cost is the mean of those repeats.
The same run counts the interceptions the server recorded on those mixes (expected: 0).

A short version on its own stack (fewer conversations; the figures are labelled with the command):

    .venv/bin/python -m bench.guard_cost --conversations 20 --write-docs

Results go to the ``<!-- guard:start -->`` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.docs import replace_section
from bench.load import FLOWS, percentiles

START, END = "<!-- guard:start -->", "<!-- guard:end -->"
REPEAT = 20
BUDGET_MS = 1.0
Message = Tuple[Optional[str], Tuple[str, ...]]


def turn_replies(tracker_url: str) -> List[List[Message]]:
    """The bot messages of every customer turn in the tracker store (text, button titles)."""
    import sqlalchemy as sa

    from ops.retrain.export import _engine, _events_table

    events = _events_table()
    query = (sa.select(events.c.sender_id, events.c.type_name, events.c.data)
             .where(events.c.type_name.in_(["user", "bot"])).order_by(events.c.sender_id, events.c.id))
    turns: List[List[Message]] = []
    current: Optional[List[Message]] = None
    last_sender = None
    with _engine(tracker_url).connect() as conn:
        for sender, kind, raw in conn.execute(query):
            if sender != last_sender:
                current, last_sender = None, sender
            if kind == "user":
                current = []
                turns.append(current)
            elif current is not None:
                data = json.loads(raw or "{}")
                buttons = ((data.get("data") or {}).get("buttons") or []) + \
                    ((data.get("data") or {}).get("quick_replies") or [])
                titles = tuple(str(b.get("title")) for b in buttons if isinstance(b, dict) and b.get("title"))
                current.append((data.get("text"), titles))
    return [t for t in turns if t]


def time_turns(turns: Sequence[Sequence[Message]], repeat: int = REPEAT) -> Dict[str, Any]:
    from credit.guard.review import review

    for text, titles in turns[0] if turns else ():  # warm the regular expressions and the catalogue
        review(text, titles)
    costs: List[float] = []
    intercepted = 0
    for turn in turns:
        intercepted += sum(review(text, titles).intercepted for text, titles in turn)
        started = time.perf_counter()
        for _ in range(repeat):
            for text, titles in turn:
                review(text, titles)
        costs.append((time.perf_counter() - started) / repeat)
    chars = [len(text or "") + sum(map(len, titles)) for turn in turns for text, titles in turn]
    return {"turns": len(turns), "messages": len(chars), "mean_chars": round(sum(chars) / max(1, len(chars)), 1),
            "max_chars": max(chars, default=0), "intercepted_in_review": intercepted, "repeat": repeat,
            **{k: round(v, 3) for k, v in _precise(costs).items()}}


def _precise(values: List[float]) -> Dict[str, float]:
    """Per-turn costs (seconds) as p50/p95/p99/max in ms with three decimals: ``percentiles`` rounds its ms to
    0.1, too coarse here, so it is given milliseconds (and returns microseconds)."""
    scaled = percentiles([v * 1000 for v in values])
    return {k: v / 1000 for k, v in scaled.items()}


def recorded_interceptions(credit_url: str) -> int:
    from sqlalchemy import func, inspect, select

    from credit.db.engine import get_engine
    from credit.db.interceptions import Interception

    engine = get_engine(credit_url)
    try:
        if not inspect(engine).has_table("compliance_interceptions"):
            return 0
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Interception)).scalar() or 0)
    finally:
        engine.dispose()


def measure_run(tracker_url: str, credit_url: str) -> Dict[str, Any]:
    """The guard's per-turn cost over a run's replies, and the interceptions the server recorded."""
    out = time_turns(turn_replies(tracker_url))
    out["interceptions_recorded"] = recorded_interceptions(credit_url)
    return out


def markdown(result: Dict[str, Any]) -> str:
    ok = result["p95_ms"] <= BUDGET_MS
    return "\n".join([
        START,
        "## Output guard cost per turn (issue 29) — `bench/guard_cost.py`",
        "",
        f"Run {result['date']}, code at `{result.get('commit')}`. Command: `{result['command']}`. Every bot message "
        f"of the run's {result['turns']} customer turns ({result['messages']} messages, {result['mean_chars']} "
        f"characters on average, longest {result['max_chars']}) went through the guard's decision "
        "(`credit.guard.review.review`: the compliance checker over the text and its button titles, what "
        "`server/patches/output.py` runs on every message) in the benchmark process, each turn "
        f"{result['repeat']} times; the per-turn cost is the mean of the repeats. The 2 cores were shared with "
        "other jobs.",
        "",
        "| per turn | p50 ms | p95 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|",
        f"| output guard | {result['p50_ms']} | {result['p95_ms']} | {result['p99_ms']} | {result['max_ms']} |",
        "",
        f"Budget: ≤ {BUDGET_MS} ms at p95 per turn — {'**met**' if ok else '**not met**'}. Interceptions on the "
        f"benchmark mixes: **{result['interceptions_recorded']}** recorded by the server, "
        f"{result['intercepted_in_review']} in the re-check here.",
        END,
    ])


def write_docs(result: Dict[str, Any]) -> None:
    replace_section(markdown(result), START, END)


def _own_run(conversations: int) -> Dict[str, Any]:
    from bench.flamegraphs import MIXED
    from bench.load import run_load
    from harness.stacks import AssistantStack
    from ops.model_cache import dev_model

    stack = AssistantStack(dev_model()).start()
    try:
        for flows in (MIXED, FLOWS):
            asyncio.run(run_load(stack.url, conversations, 5, flows=flows, prefix="guard"))
        return measure_run(stack.tracker_url, stack.env["DATABASE_URL"])
    finally:
        stack.stop()


def main(argv: Optional[Sequence[str]] = None) -> int:
    import subprocess

    from harness.paths import ROOT

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20, help="of the mixed conversation and of the flows")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    result = _own_run(args.conversations)
    result.update(date=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                  command="python -m bench.guard_cost " + " ".join(argv or sys.argv[1:]),
                  commit=subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                        text=True).stdout.strip())
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.write_docs:
        write_docs(result)
    return 0 if result["p95_ms"] <= BUDGET_MS and result["interceptions_recorded"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
