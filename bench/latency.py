"""Per-turn cost of the assistant next to a bare Rasa assistant (`rasa init` moodbot,
bench/moodbot/) on the same install, served the same way, measured in the same run (issue 14).

    .venv/bin/python bench/latency.py                    # the standard run (about 10 minutes)
    .venv/bin/python bench/latency.py --write-docs       # ... and update docs/benchmarks.md (make bench-perf)
    .venv/bin/python bench/latency.py --train            # also time a full training of the assistant
    .venv/bin/python bench/latency.py --train-only --write-docs   # only that, added to the last results
    .venv/bin/python bench/latency.py --quick            # a smoke run (few turns)

Ours is the action server + hardened Rasa server (`python -m server run`), the moodbot runs on
plain `rasa run`; both with the REST channel, a SQLite tracker store and one Sanic worker each.

* cold start: each started alone, from process start to the first answer (ours twice: the whole
  stack with the seeded loan database and the action server, and one more Rasa server alone);
* the mixed conversation (``MIXED``, 5 turns): a rate question, a progress check with ID verification
  (form, validation action, identity check and progress lookup in the loan database) and thanks; the
  moodbot's is 5 turns too (greet, mood, answer, mood, goodbye).  Concurrency 1, 20 and 50, phases
  alternated between the two bots in rounds so that background load hits both alike;
* one long conversation of 200 turns on each (the mixed conversation 40 times, alone on the
  machine): turn-10 and turn-200 latency, and the medians of turns 2-11 and 191-200;
* a burst of 30 messages from one sender (``bench.burst``): every accepted message in the tracker?
* load: 500 conversations of the flows of bench/load.py, 50 at a time, every turn then looked up in
  the tracker store; WeChat: the share of 50-concurrent WeChat turns answered passively within 4.5 s;
* memory: resident set size (now and peak) of each server process after the run;
* the output guard (issue 29, ``bench.guard_cost``): its cost per turn over every reply of this run's
  mixes, and the interceptions the server recorded on them (0 expected; its own docs section).

Results: JSON on stdout and in results/perf.json; with --write-docs the section between
``<!-- perf:start -->`` and ``<!-- perf:end -->`` of docs/benchmarks.md is replaced.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from bench.burst import burst, stored_texts, summarise, texts
from bench.flamegraphs import MIXED
from bench.guard_cost import measure_run
from bench.guard_cost import write_docs as write_guard_docs
from bench.latency_report import DOCS, markdown, previous_rss, write_docs
from bench.load import FLOWS, LoadResult, missing_turns, percentiles, report, run_load
from bench.machine import machine_facts
from bench.reference import reference_stack
from bench.wechat_phase import WECHAT_ENV, wechat_phase
from harness.http import http
from harness.moodbot import MoodbotStack, moodbot_model
from harness.paths import RASA, ROOT
from harness.rasa import base_env
from harness.stacks import AssistantStack
from harness.wechat_api import WeChatApiStandIn
from ops.model_cache import dev_model

MOOD = {"mood": [("hello", None), ("I am sad", None), ("yes", None), ("I am great", None), ("bye", None)]}
MAX_LOAD = 0.5  # 1-minute load average above which a run is refused (or marked noisy)
DB_TURN = 3  # index of the ID-digits turn of MIXED: validation action, identity check, progress lookup


def time_training(out: Path) -> Dict[str, Any]:
    """A full `rasa train` of the assistant (no cache), timed."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # --force and an empty cache directory: every component is trained, nothing restored
    subprocess.run([RASA, "train", "--force", "--config", "config.yml", "--domain", "domain", "--data", "data",
                    "--out", str(out), "--fixed-model-name", "timed"],
                   cwd=ROOT, env=base_env(RASA_CACHE_DIRECTORY=str(out / "cache")), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    model = out / "timed.tar.gz"
    return {"train_seconds": round(seconds, 1), "model_mb": round(model.stat().st_size / 2**20, 1),
            "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


# --------------------------------------------------------------------------- phases


def measure(url: str, flows: Dict[str, Any], conversations: int, concurrency: int, prefix: str,
            check_replies: bool = True) -> LoadResult:
    return asyncio.run(run_load(url, conversations, concurrency, flows=flows, prefix=prefix, max_seconds=1800,
                                check_replies=check_replies))


def phase_summary(result: LoadResult, db_turn_index: Optional[int] = None) -> Dict[str, Any]:
    out = result.summary()
    if db_turn_index is not None:
        out["db_turn"] = percentiles([t.latency for t in result.turns if t.index == db_turn_index])
    if result.errors:
        out["first_errors"] = [f"#{t.index} {t.text!r}: {t.error}" for t in result.errors[:5]]
    return out


def merge(results: List[LoadResult]) -> LoadResult:
    merged = LoadResult()
    for r in results:
        merged.turns += r.turns
        merged.conversations += r.conversations
    merged.started = 0.0
    merged.finished = sum(r.duration for r in results)
    return merged


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def cold_start(start: Callable[[], str], first: str) -> Dict[str, Any]:
    """Seconds from starting the processes to the first answer of a REST turn; ``start`` returns the URL."""
    started = time.monotonic()
    url = start()
    ready = time.monotonic()
    response = http("POST", f"{url}/webhooks/rest/webhook", {"sender": "cold-start", "message": first}, timeout=120)
    answered = time.monotonic()
    return {"seconds": round(answered - started, 1), "to_ready_s": round(ready - started, 1),
            "first_turn_ms": round((answered - ready) * 1000, 1), "status": response.status}


def long_conversation(url: str, flow: Dict[str, Any], prefix: str, length: int) -> Dict[str, Any]:
    """One conversation of ``flow`` again and again, ``length`` turns: latency by turn number."""
    (name, turns), = flow.items()
    result = measure(url, {name: (turns * length)[:length]}, 1, 1, prefix, check_replies=False)
    ms = [round(t.latency * 1000, 1) for t in sorted(result.turns, key=lambda t: t.index)]
    first, last = round(statistics.median(ms[1:11]), 1), round(statistics.median(ms[-10:]), 1)
    return {"turns": len(ms), "errors": len(result.errors), "turn_10_ms": ms[9], "turn_last_ms": ms[-1],
            "median_2_11_ms": first, "median_191_200_ms": last, "growth": ratio(last, first),
            "seconds": round(result.duration, 1)}


def burst_phase(url: str, conversation: str, base: str, messages: int) -> Dict[str, Any]:
    """``messages`` messages of one sender at once, client timeout 60 s; then which are in the tracker store."""
    rows = burst(url, conversation.split(":")[-1], texts(messages, base), client_timeout=60)
    time.sleep(2)
    out = summarise(base, rows, stored_texts(url, conversation))
    out.pop("rows")
    return out


def _ratios(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, float]:
    return {"p50": ratio(a["p50_ms"], b["p50_ms"]), "p95": ratio(a["p95_ms"], b["p95_ms"]),
            "p99": ratio(a["p99_ms"], b["p99_ms"]), "tps": ratio(a["turns_per_second"], b["turns_per_second"])}


def _headline(summary: Dict[str, Any]) -> Dict[str, Any]:
    return {k: summary[k] for k in ("turns", "errors", "p50_ms", "p95_ms", "turns_per_second")}


def _spread(values: List[float]) -> Dict[str, float]:
    return {"min": min(values), "max": max(values), "median": round(statistics.median(values), 2)}


def concurrency_phases(ours: AssistantStack, mood: MoodbotStack, ref: Optional[AssistantStack], plan: List[Any],
                       rounds: int, results: Dict[str, Any]) -> None:
    """Each phase runs every bot alone, one after the other, ``rounds`` times in alternating order (ours first,
    then the moodbot first, ...), each time with the phase's full number of conversations: the spread between
    rounds is reported beside the merged figures."""
    for concurrency, conversations in plan:
        mine: List[LoadResult] = []
        theirs: List[LoadResult] = []
        before: List[LoadResult] = []
        repeats: List[Dict[str, Any]] = []
        for r in range(rounds):
            print(f">> concurrency {concurrency}, round {r + 1}/{rounds}", file=sys.stderr, flush=True)
            load = round(os.getloadavg()[0], 2)
            order = [("ours", ours.url, MIXED), ("mood", mood.url, MOOD)]
            for name, url, flows in (order if r % 2 == 0 else order[::-1]):
                result = measure(url, flows, conversations, concurrency, f"b{concurrency}{name[0]}{r}")
                (mine if name == "ours" else theirs).append(result)
            if ref is not None:
                before.append(measure(ref.url, MIXED, conversations, concurrency, f"b{concurrency}r{r}"))
            a, b = _headline(mine[-1].summary()), _headline(theirs[-1].summary())
            repeats.append({"round": r + 1, "order": "ours first" if r % 2 == 0 else "moodbot first",
                            "load_1min_at_start": load, "assistant": a, "moodbot": b,
                            "ratios": {"p95": ratio(a["p95_ms"], b["p95_ms"]),
                                       "tps": ratio(a["turns_per_second"], b["turns_per_second"])}})
        a, b = phase_summary(merge(mine), db_turn_index=DB_TURN), phase_summary(merge(theirs))
        results["assistant"][f"c{concurrency}"], results["moodbot"][f"c{concurrency}"] = a, b
        results["ratios"][f"c{concurrency}"] = _ratios(a, b)
        results["rounds"][f"c{concurrency}"] = repeats
        results["spread"][f"c{concurrency}"] = {k: _spread([x["ratios"][k] for x in repeats]) for k in ("p95", "tps")}
        if ref is not None:
            c = phase_summary(merge(before), db_turn_index=DB_TURN)
            results["reference"][f"c{concurrency}"] = c
            results["ratios_reference"][f"c{concurrency}"] = _ratios(c, b)


def run(args: argparse.Namespace, results: Dict[str, Any]) -> None:
    ours_model, mood_model = dev_model(), moodbot_model()
    results["model"] = {"file": ours_model.name, "size_mb": round(ours_model.stat().st_size / 2**20, 1),
                        "moodbot_size_mb": round(mood_model.stat().st_size / 2**20, 1)}
    wechat_api = WeChatApiStandIn(app_id=WECHAT_ENV["WECHAT_APP_ID"], app_secret=WECHAT_ENV["WECHAT_APP_SECRET"])
    api_base = wechat_api.start()
    ours = AssistantStack(ours_model, env={**WECHAT_ENV, "WECHAT_API_BASE": api_base})
    mood = MoodbotStack(mood_model)
    ref: Optional[AssistantStack] = None
    if args.reference:
        ref, results["reference_label"] = reference_stack()
    try:
        print(">> cold starts (each alone) ...", file=sys.stderr, flush=True)
        results["cold_start"] = {"moodbot rasa server": cold_start(lambda: mood.start().url, "hello"),
                                 "assistant stack (loan DB seed + action server + rasa server)":
                                     cold_start(lambda: ours.start().url, "你好")}
        results["cold_start"]["assistant rasa server alone (action server up)"] = cold_start(
            lambda: ours.add_server({}, "cold").rasa_url, "你好")
        ours.servers.pop().stop()
        if ref is not None:
            ref.start()
        for stack, flows, name in ((ours, MIXED, "warm-ours"), (mood, MOOD, "warm-mood"), (ref, MIXED, "warm-ref")):
            if stack is not None:
                measure(stack.url, flows, 3, 1, name)
        for key in ("assistant", "moodbot", "ratios", "reference", "ratios_reference", "rounds", "spread"):
            results[key] = {}
        plan = [(c, n) for c, n in zip(args.concurrencies, args.conversations, strict=True)]
        concurrency_phases(ours, mood, ref, plan, args.rounds, results)
        print(">> one long conversation on each", file=sys.stderr, flush=True)
        results["long"] = {"assistant": long_conversation(ours.url, MIXED, "long-o", args.long_turns),
                           "moodbot": long_conversation(mood.url, MOOD, "long-m", args.long_turns)}
        if ref is not None:
            results["long"]["today's build"] = long_conversation(ref.url, MIXED, "long-r", args.long_turns)
        print(f">> a burst of {args.burst} messages from one sender", file=sys.stderr, flush=True)
        results["burst"] = {"assistant": burst_phase(ours.url, "rest:burst-1", "利息多少", args.burst),
                            "moodbot": burst_phase(mood.url, "burst-1", "hello", args.burst)}
        if args.load_conversations:
            print(f">> load: {args.load_conversations} mixed conversations, 50 at a time", file=sys.stderr, flush=True)
            load = asyncio.run(run_load(ours.url, args.load_conversations, 50, flows=FLOWS, prefix="bload",
                                        max_seconds=1800))
            results["load"] = {**report(load, missing_turns(ours.tracker_url, load)), "concurrency": 50,
                               "flows": sorted(FLOWS)}
        if args.wechat_conversations:
            print(">> WeChat phase", file=sys.stderr, flush=True)
            results["wechat"] = {**asyncio.run(wechat_phase(ours.url, args.wechat_conversations, 50)),
                                 "concurrency": 50}
        print(">> output guard: cost per turn over this run's replies, interceptions recorded", file=sys.stderr,
              flush=True)
        results["guard"] = measure_run(ours.tracker_url, ours.env["DATABASE_URL"])
        results["memory"] = {f"assistant {k.replace('_', ' ')}": v for k, v in ours.rss_mb().items()}
        results["memory"].update({f"moodbot {k.replace('_', ' ')}": v for k, v in mood.rss_mb().items()})
        if ref is not None:
            results["memory"].update({f"today's build {k.replace('_', ' ')}": v for k, v in ref.rss_mb().items()})
    finally:
        if ref is not None:
            ref.stop()
        ours.stop()
        mood.stop()
        wechat_api.stop()
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]


def failures(results: Dict[str, Any]) -> int:
    bots = [k for k in ("assistant", "moodbot", "reference") if results.get(k)]
    errors = sum(results[k][f"c{c}"]["errors"] for k in bots for c in results["concurrencies"])
    errors += sum(r["errors"] for r in results["long"].values())
    errors += sum(r["messages"] - r["in_tracker"] for r in results["burst"].values())
    load = results.get("load") or {}
    guard = results.get("guard") or {}  # issue 29: no interception on the benchmark mixes
    return errors + load.get("errors", 0) + load.get("missing_in_tracker_store", 0) + \
        (results.get("wechat") or {}).get("errors", 0) + guard.get("interceptions_recorded", 0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrencies", type=int, nargs="+", default=[1, 20, 50])
    # 5 turns a conversation: 300 turns at 1, 1000 at 20 (issue 25), in each round
    parser.add_argument("--conversations", type=int, nargs="+", default=[60, 200, 150],
                        help="conversations per bot at each concurrency, in each round")
    parser.add_argument("--rounds", type=int, default=2,
                        help="repetitions of each phase (bots alone, one after the other, order alternating)")
    parser.add_argument("--max-load", type=float, default=MAX_LOAD,
                        help="refuse to start when the 1-minute load average is above this (default 0.5)")
    parser.add_argument("--noisy", action="store_true",
                        help="run anyway on a loaded machine; the results and docs are marked noisy")
    parser.add_argument("--long-turns", type=int, default=200, help="turns of the one long conversation")
    parser.add_argument("--burst", type=int, default=30, help="messages of the one-sender burst")
    parser.add_argument("--wechat-conversations", type=int, default=100)
    parser.add_argument("--load-conversations", type=int, default=500,
                        help="mixed-flow load test on the assistant afterwards (0: skip)")
    parser.add_argument("--train", action="store_true", help="also time a full training (4-5 minutes)")
    parser.add_argument("--quick", action="store_true", help="smoke run with few turns")
    parser.add_argument("--no-reference", dest="reference", action="store_false",
                        help="leave out today's frozen build (bench/reference.py)")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--train-only", action="store_true",
                        help="time a full training and add it to results/perf.json (and the docs with --write-docs)")
    parser.add_argument("--render", type=Path, help="only rewrite the docs section from a saved results JSON")
    args = parser.parse_args(argv)
    saved_path = ROOT / "results" / "perf.json"
    if args.render:
        write_docs(markdown(json.loads(args.render.read_text())))
        return 0
    if args.train_only:
        saved = json.loads(saved_path.read_text())
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            saved["training"] = time_training(Path(tmp))
        saved_path.write_text(json.dumps(saved, ensure_ascii=False, indent=2))
        if args.write_docs:
            write_docs(markdown(saved))
        return 0
    load_at_start = os.getloadavg()
    noisy = load_at_start[0] > args.max_load
    if noisy and not (args.noisy or args.quick):
        print(f"refusing: the 1-minute load average is {load_at_start[0]:.2f} (> {args.max_load}); other jobs "
              "would compress the ratios. Wait for a quiet machine, or pass --noisy to run anyway (the results "
              "are then marked noisy).", file=sys.stderr)
        return 2
    if args.quick:
        args.conversations, args.rounds = [2, 10, 20][:len(args.concurrencies)], 1
        args.wechat_conversations, args.load_conversations, args.long_turns, args.burst = 10, 10, 20, 5
    results: Dict[str, Any] = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                               "noisy": noisy, "load_average_at_start": [round(x, 2) for x in load_at_start],
                               "machine": machine_facts(), "concurrencies": args.concurrencies,
                               "command": "make bench-perf (.venv/bin/python bench/latency.py "
                                          + " ".join(argv or sys.argv[1:]) + ")",
                               "previous_rss": previous_rss(),
                               "commit": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                                        capture_output=True, text=True).stdout.strip()}
    run(args, results)
    if args.train:
        print(">> timing a full training ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            results["training"] = time_training(Path(tmp))
    out = json.dumps(results, ensure_ascii=False, indent=2)
    print(out)
    saved_path.parent.mkdir(exist_ok=True)
    saved_path.write_text(out)
    if args.write_docs:
        write_docs(markdown(results))
        if results.get("guard"):
            write_guard_docs({**results["guard"], "date": results["date"], "command": results["command"],
                              "commit": results["commit"]})
        print(f">> updated {DOCS.relative_to(ROOT)}", file=sys.stderr)
    return 0 if failures(results) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
