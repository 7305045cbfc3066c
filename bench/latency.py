"""Per-turn latency, throughput and memory of the assistant next to a bare Rasa
assistant (`rasa init` moodbot, bench/moodbot/), served the same way, in the same run.

    .venv/bin/python bench/latency.py                    # the standard run (about 10 minutes)
    .venv/bin/python bench/latency.py --write-docs       # ... and update docs/benchmarks.md
    .venv/bin/python bench/latency.py --train            # also time a full training of the assistant
    .venv/bin/python bench/latency.py --train-only --write-docs   # only that, added to the last results
    .venv/bin/python bench/latency.py --quick            # a smoke run (few turns)

Both assistants run at the same time on loopback: our action server + hardened Rasa server
(`python -m server run`), and the moodbot on plain `rasa run`; both with the REST channel
and a SQLite tracker store, one Sanic worker each.  Phases alternate between the two so
that background load on the machine hits both alike:

* concurrency 1: conversations one after another;
* concurrency 50: 50 conversations at once;
* each conversation is 3 turns: ours is the progress check (查进度 → application number →
  ID digits: form, validation action, identity check and progress lookup in the loan
  database), the moodbot's is greet → mood → answer.  The last turn of ours is reported
  on its own as "custom action + DB lookup".
* WeChat: 50 concurrent WeChat conversations (signed callbacks, plain mode) on our
  server: the share of turns answered passively (reply XML in the HTTP response) within
  4.5 s.
* load: 500 conversations of the mixed flows of bench/load.py, 50 at a time, every turn
  then looked up in the tracker store;
* memory: resident set size (current and peak) of each server process after the run.

Results: JSON on stdout and in results/perf.json; with --write-docs the section between
``<!-- perf:start -->`` and ``<!-- perf:end -->`` of docs/benchmarks.md is replaced.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bench.load import FLOWS, LoadResult, missing_turns, percentiles, report, run_load
from bench.machine import machine_facts
from harness.moodbot import MoodbotStack, moodbot_model
from harness.paths import RASA, ROOT
from harness.rasa import base_env
from harness.stacks import AssistantStack
from harness.wechat_api import WeChatApiStandIn
from ops.model_cache import dev_model

DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- perf:start -->", "<!-- perf:end -->"
OUR_FLOW = {"progress": FLOWS["progress"]}
MOOD_FLOW = {"mood": [("hello", None), ("I am sad", None), ("yes", None)]}
WECHAT_ENV = {
    "WECHAT_TOKEN": "bench-wechat-token",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "test-wechat-secret",
}
PASSIVE_LIMIT_S = 4.5


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


def measure(url: str, flows: Dict[str, Any], conversations: int, concurrency: int, prefix: str) -> LoadResult:
    return asyncio.run(run_load(url, conversations, concurrency, flows=flows, prefix=prefix, max_seconds=1800))


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


async def wechat_phase(url: str, conversations: int, concurrency: int) -> Dict[str, Any]:
    """WeChat callbacks (plain mode) for `conversations` progress checks, `concurrency` at once."""
    import aiohttp

    token = WECHAT_ENV["WECHAT_TOKEN"]
    samples: List[Dict[str, Any]] = []
    sem = asyncio.Semaphore(concurrency)

    def signed(body: bytes) -> str:
        ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signature = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
        return urllib.parse.urlencode({"signature": signature, "timestamp": ts, "nonce": nonce})

    async def one(session: aiohttp.ClientSession) -> None:
        openid = "o" + uuid.uuid4().hex[:27]
        async with sem:
            for text, _ in FLOWS["progress"]:
                xml = ("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
                       f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                       f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
                       f"<MsgId>{uuid.uuid4().int % 10**18 + 10**18}</MsgId></xml>").encode()
                started = time.monotonic()
                try:
                    async with session.post(f"{url}/webhooks/wechat/webhook?{signed(xml)}", data=xml,
                                            headers={"Content-Type": "text/xml"},
                                            timeout=aiohttp.ClientTimeout(total=30)) as response:
                        body = await response.text()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    body, status = str(exc), 0
                elapsed = time.monotonic() - started
                samples.append({"status": status, "seconds": elapsed, "passive": body.lstrip().startswith("<xml")})

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2)) as session:
        await asyncio.gather(*(one(session) for _ in range(conversations)))
    passive = [s for s in samples if s["status"] == 200 and s["passive"] and s["seconds"] <= PASSIVE_LIMIT_S]
    return {"turns": len(samples), "passive_within_4_5s": len(passive),
            "share": round(len(passive) / max(1, len(samples)), 4),
            "errors": sum(1 for s in samples if s["status"] != 200),
            **percentiles([s["seconds"] for s in samples])}


# --------------------------------------------------------------------------- report


def markdown(results: Dict[str, Any]) -> str:
    m, ours, mood = results["machine"], results["assistant"], results["moodbot"]
    lines = [
        START,
        "## Performance (REST latency, throughput, memory) — `bench/latency.py`",
        "",
        f"Run {results['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM "
        f"(load average at start {', '.join(map(str, m['load_average_at_start']))}; the machine was shared "
        f"with other jobs), Python {m['python']}, Rasa 3.6.21. "
        f"Command: `{results['command']}`. Both servers up at the same time, phases alternated, "
        "REST channel, SQLite tracker store, one Sanic worker each; latency is client-side per turn.",
        "",
        "| concurrency | assistant | turns | errors | p50 ms | p95 ms | p99 ms | turns/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in results["concurrencies"]:
        for name, data in (("credit assistant (3-turn progress check)", ours), ("bare moodbot (`rasa init`)", mood)):
            p = data[f"c{c}"]
            lines.append(f"| {c} | {name} | {p['turns']} | {p['errors']} | {p['p50_ms']} | {p['p95_ms']} | "
                         f"{p['p99_ms']} | {p['turns_per_second']} |")
        db = ours[f"c{c}"].get("db_turn", {})
        lines.append(f"| {c} | credit assistant, turn with custom action + DB lookup only | "
                     f"{ours[f'c{c}']['conversations']} | | {db.get('p50_ms')} | {db.get('p95_ms')} | "
                     f"{db.get('p99_ms')} | |")
    lines += ["", "| ratio assistant / moodbot | p50 | p95 | p99 | turns/s |", "|---|---|---|---|---|"]
    for c in results["concurrencies"]:
        r = results["ratios"][f"c{c}"]
        lines.append(f"| concurrency {c} | {r['p50']} | {r['p95']} | {r['p99']} | {r['tps']} |")
    lines.append("")
    lines.append("Target: p95 ratio ≤ 1.5 at both concurrencies — "
                 + ("**met**." if all(results["ratios"][f"c{c}"]["p95"] <= 1.5 for c in results["concurrencies"])
                    else "**not met** (see the ratios above)."))
    if results.get("wechat"):
        w = results["wechat"]
        lines += ["", f"WeChat (signed plain-mode callbacks, {w['concurrency']} concurrent conversations × 3 turns): "
                      f"**{w['share'] * 100:.1f}%** of {w['turns']} turns answered passively within 4.5 s "
                      f"(p50 {w['p50_ms']} ms, p95 {w['p95_ms']} ms, p99 {w['p99_ms']} ms, errors {w['errors']})."]
    if results.get("load"):
        ld = results["load"]
        lines += ["", f"Load (`bench/load.py` flows {', '.join(ld['flows'])}: forms, validation actions, identity "
                      f"checks and loan-database lookups, rate calculations, a complaint, a question inside a form): "
                      f"{ld['conversations']} conversations, {ld['concurrency']} at a time, {ld['turns']} turns in "
                      f"{ld['seconds']} s ({ld['turns_per_second']} turns/s), **{ld['errors']} errors, "
                      f"{ld['missing_in_tracker_store']} turns missing from the tracker store**; "
                      f"p50 {ld['p50_ms']} ms, p95 {ld['p95_ms']} ms, p99 {ld['p99_ms']} ms."]
    mem = results["memory"]
    lines += ["", "| memory after the run | RSS MB | peak RSS MB |", "|---|---|---|"]
    for name, values in mem.items():
        lines.append(f"| {name} | {values.get('rss_mb')} | {values.get('peak_mb')} |")
    model = results["model"]
    lines += ["", f"Model: `{model['file']}` {model['size_mb']} MB."]
    if results.get("training"):
        t = results["training"]
        when = f" on {t['date']}" if t.get("date") else ""
        lines.append(f"Full training (`rasa train --force`, empty cache{when}, same machine): {t['train_seconds']} s, "
                     f"model {t['model_mb']} MB.")
    lines += ["", "At concurrency 50 both servers are CPU-bound on the 2 cores (one Sanic worker each), so latency "
                  "there is mostly queueing; more throughput comes from more Rasa servers (docs/deployment.md)."]
    lines += [END]
    return "\n".join(lines)


def write_docs(section: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.write_text(text)


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequential-conversations", type=int, default=40, help="conversations at concurrency 1")
    parser.add_argument("--concurrent-conversations", type=int, default=150, help="conversations at concurrency 50")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two assistants per phase")
    parser.add_argument("--wechat-conversations", type=int, default=100)
    parser.add_argument("--load-conversations", type=int, default=500,
                        help="mixed-flow load test on the assistant afterwards (0: skip)")
    parser.add_argument("--train", action="store_true", help="also time a full training (4-5 minutes)")
    parser.add_argument("--quick", action="store_true", help="smoke run with few turns")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--train-only", action="store_true",
                        help="time a full training and add it to results/perf.json (and the docs with --write-docs)")
    parser.add_argument("--render", type=Path, help="only rewrite the docs section from a saved results JSON")
    args = parser.parse_args(argv)
    if args.render:
        write_docs(markdown(json.loads(args.render.read_text())))
        return 0
    if args.train_only:
        saved_path = ROOT / "results" / "perf.json"
        saved = json.loads(saved_path.read_text())
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            saved["training"] = time_training(Path(tmp))
        saved_path.write_text(json.dumps(saved, ensure_ascii=False, indent=2))
        print(json.dumps(saved["training"]))
        if args.write_docs:
            write_docs(markdown(saved))
        return 0
    if args.quick:
        args.sequential_conversations, args.concurrent_conversations = 4, 20
        args.concurrency, args.rounds, args.wechat_conversations, args.load_conversations = 10, 1, 10, 10

    results: Dict[str, Any] = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                               "machine": machine_facts(),
                               "command": "python bench/latency.py " + " ".join(argv or sys.argv[1:]),
                               "concurrencies": [1, args.concurrency]}
    ours_model, mood_model = dev_model(), moodbot_model()
    results["model"] = {"file": ours_model.name, "size_mb": round(ours_model.stat().st_size / 2**20, 1),
                        "moodbot_size_mb": round(mood_model.stat().st_size / 2**20, 1)}
    wechat_api = WeChatApiStandIn(app_id=WECHAT_ENV["WECHAT_APP_ID"], app_secret=WECHAT_ENV["WECHAT_APP_SECRET"])
    api_base = wechat_api.start()
    ours = AssistantStack(ours_model, env={**WECHAT_ENV, "WECHAT_API_BASE": api_base})
    mood = MoodbotStack(mood_model)
    try:
        print(">> starting both assistants ...", file=sys.stderr, flush=True)
        ours.start()
        mood.start()
        for stack, flows, name in ((ours, OUR_FLOW, "warm-ours"), (mood, MOOD_FLOW, "warm-mood")):
            measure(stack.url, flows, 3, 1, name)
        results["assistant"], results["moodbot"], results["ratios"] = {}, {}, {}
        plan = [(1, args.sequential_conversations), (args.concurrency, args.concurrent_conversations)]
        for concurrency, conversations in plan:
            per_round = max(1, conversations // args.rounds)
            mine: List[LoadResult] = []
            theirs: List[LoadResult] = []
            for r in range(args.rounds):
                print(f">> concurrency {concurrency}, round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
                mine.append(measure(ours.url, OUR_FLOW, per_round, concurrency, f"b{concurrency}o{r}"))
                theirs.append(measure(mood.url, MOOD_FLOW, per_round, concurrency, f"b{concurrency}m{r}"))
            a, b = phase_summary(merge(mine), db_turn_index=2), phase_summary(merge(theirs))
            results["assistant"][f"c{concurrency}"], results["moodbot"][f"c{concurrency}"] = a, b
            results["ratios"][f"c{concurrency}"] = {"p50": ratio(a["p50_ms"], b["p50_ms"]),
                                                    "p95": ratio(a["p95_ms"], b["p95_ms"]),
                                                    "p99": ratio(a["p99_ms"], b["p99_ms"]),
                                                    "tps": ratio(a["turns_per_second"], b["turns_per_second"])}
        if args.load_conversations:
            print(f">> load: {args.load_conversations} mixed conversations, {args.concurrency} at a time",
                  file=sys.stderr, flush=True)
            load = asyncio.run(run_load(ours.url, args.load_conversations, args.concurrency, flows=FLOWS,
                                        prefix="bload", max_seconds=1800))
            results["load"] = {**report(load, missing_turns(ours.tracker_url, load)),
                               "concurrency": args.concurrency, "flows": sorted(FLOWS)}
        print(">> WeChat phase", file=sys.stderr, flush=True)
        results["wechat"] = {**asyncio.run(wechat_phase(ours.url, args.wechat_conversations, args.concurrency)),
                             "concurrency": args.concurrency}
        results["memory"] = {f"assistant {k.replace('_', ' ')}": v for k, v in ours.rss_mb().items()}
        results["memory"].update({f"moodbot {k.replace('_', ' ')}": v for k, v in mood.rss_mb().items()})
    finally:
        ours.stop()
        mood.stop()
        wechat_api.stop()
    if args.train:
        print(">> timing a full training ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            results["training"] = time_training(Path(tmp))
    out = json.dumps(results, ensure_ascii=False, indent=2)
    print(out)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "perf.json").write_text(out)
    if args.write_docs:
        write_docs(markdown(results))
        print(f">> updated {DOCS.relative_to(ROOT)}", file=sys.stderr)
    errors = sum(results[k][f"c{c}"]["errors"] for k in ("assistant", "moodbot") for c in results["concurrencies"])
    load = results.get("load") or {}
    errors += load.get("errors", 0) + load.get("missing_in_tracker_store", 0) + results["wechat"]["errors"]
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
