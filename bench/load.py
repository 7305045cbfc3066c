"""Load test: many concurrent, realistic multi-turn conversations through the REST
channel (custom actions and loan-database lookups included), on loopback only, bounded in
time and count; then every turn is looked up in the tracker store.

    .venv/bin/python bench/load.py                          # 500 conversations, 50 at a time
    .venv/bin/python bench/load.py --conversations 2000 --concurrency 100 --max-seconds 900
    .venv/bin/python bench/load.py --url http://127.0.0.1:5005 --tracker-db var/tracker.db

Without ``--url`` it starts its own action server and hardened Rasa server on free
loopback ports (dev model, fresh SQLite loan database and tracker store) and stops them
afterwards.  Exit code 0 only with zero errors and zero missing turns.  The short
version runs in the test suite (tests/scale/test_load.py).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import aiohttp

from credit.text.masking import mask_pii
from harness.rasa import conversation_id

# (customer text, a word the reply must contain or None); every flow uses custom actions.
Flow = List[Tuple[str, Optional[str]]]
FLOWS: Dict[str, Flow] = {
    # form + validation action + identity check and progress lookup in the loan database
    "progress": [("查进度", "申请编号"), ("SQ202611200001", "身份证"), ("1234", "审批中")],
    # custom rate calculation from the catalogue
    "rates": [("你们的贷款利息多少", "年化"), ("借1万分12期利息多少", "866.19"), ("谢谢", None)],
    # complaint handling, offer to check progress, the form starts
    "complaint": [("你们审批太慢了，等了三天了！", "抱歉"), ("好的", "申请编号"), ("SQ202611200001", "身份证")],
    # a question inside the form, then the form resumes and completes
    "interrupted": [("查进度", "申请编号"), ("利息多少", "年化"), ("SQ202611200001", "身份证"), ("1234", "审批中")],
    # need discovery: a form over the raw text, the privacy notice, then the product match
    "needs": [("想借点钱 有什么产品推荐", "用在哪方面"), ("装修用", "想借多少"), ("借10万 分24期", "月收入"),
              ("跳过", "安家分期")],
}


@dataclass
class Turn:
    sender: str
    flow: str
    index: int
    text: str
    status: int
    latency: float
    ok: bool
    error: str = ""


@dataclass
class LoadResult:
    turns: List[Turn] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    conversations: int = 0
    sent: Dict[str, List[str]] = field(default_factory=dict)  # sender -> texts in order
    flows: Dict[str, str] = field(default_factory=dict)  # sender -> flow

    @property
    def duration(self) -> float:
        return max(self.finished - self.started, 1e-9)

    @property
    def errors(self) -> List[Turn]:
        return [t for t in self.turns if not t.ok]

    @property
    def turns_per_second(self) -> float:
        return len(self.turns) / self.duration

    def summary(self) -> Dict[str, Any]:
        latencies = [t.latency for t in self.turns]
        return {"conversations": self.conversations, "turns": len(self.turns), "errors": len(self.errors),
                "seconds": round(self.duration, 2), "turns_per_second": round(self.turns_per_second, 2),
                **percentiles(latencies)}


def percentiles(values: Sequence[float]) -> Dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        # nearest-rank percentile
        rank = max(1, int(round(q * len(ordered) + 0.5 - 1e-9)))
        return ordered[min(rank, len(ordered)) - 1] * 1000

    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(pick(0.95), 1),
            "p99_ms": round(pick(0.99), 1), "max_ms": round(ordered[-1] * 1000, 1)}


def _assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"load tests run on loopback only, not {host!r}")


async def run_load(url: str, conversations: int, concurrency: int, flows: Dict[str, Flow] = FLOWS,
                   headers: Optional[Dict[str, str]] = None, max_seconds: float = 600,
                   turn_timeout: float = 60, prefix: str = "load", seed: int = 7,
                   check_replies: bool = True) -> LoadResult:
    """``conversations`` conversations, at most ``concurrency`` at a time, each a whole flow."""
    _assert_loopback(url)
    rng = random.Random(seed)
    names = sorted(flows)
    plan = [(f"{prefix}-{uuid.uuid4().hex[:12]}", names[i % len(names)] if i < len(names) else rng.choice(names))
            for i in range(conversations)]
    result = LoadResult(conversations=conversations)
    queue: asyncio.Queue = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    deadline = time.monotonic() + max_seconds
    webhook = f"{url.rstrip('/')}/webhooks/rest/webhook"

    async def conversation(session: aiohttp.ClientSession, sender: str, flow: str) -> None:
        result.flows[sender] = flow
        result.sent[sender] = []
        for index, (text, expect) in enumerate(flows[flow]):
            if time.monotonic() > deadline:
                result.turns.append(Turn(sender, flow, index, text, 0, 0.0, False, "time limit reached"))
                return
            started = time.monotonic()
            status, error = 0, ""
            try:
                async with session.post(webhook, json={"sender": sender, "message": text},
                                        timeout=aiohttp.ClientTimeout(total=turn_timeout)) as response:
                    status = response.status
                    body = await response.read()
                latency = time.monotonic() - started
                messages = json.loads(body.decode("utf-8")) if status == 200 else None
                reply = "\n".join(m.get("text", "") for m in messages or [] if isinstance(m, dict))
                if status != 200:
                    error = f"HTTP {status}: {body[:200]!r}"
                elif not messages:
                    error = "no reply"
                elif response.headers.get("X-Degraded"):
                    error = f"degraded: {response.headers['X-Degraded']}"
                elif check_replies and expect and expect not in reply:
                    error = f"expected {expect!r} in {reply[:120]!r}"
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                latency = time.monotonic() - started
                error = f"{type(exc).__name__}: {exc}"
            result.sent[sender].append(text)
            result.turns.append(Turn(sender, flow, index, text, status, latency, not error, error))
            if error and status == 0:
                return  # the connection failed: the rest of this conversation cannot follow

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                sender, flow = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await conversation(session, sender, flow)

    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    result.started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, headers=headers or {}) as session:
        await asyncio.gather(*(worker(session) for _ in range(max(1, concurrency))))
    result.finished = time.monotonic()
    return result


def missing_turns(tracker_url: str, result: LoadResult) -> List[str]:
    """Turns sent (and answered) that are not in the tracker store, in order, per conversation."""
    from sqlalchemy import create_engine, text

    engine = create_engine(tracker_url)
    problems: List[str] = []
    try:
        with engine.connect() as conn:
            for sender, sent in result.sent.items():
                rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                         "ORDER BY id"), {"s": conversation_id(sender)}).fetchall()
                stored = [json.loads(row[0]).get("text") for row in rows]
                expected = [mask_pii(t.strip()) for t in sent]
                if stored != expected:
                    problems.append(f"{sender}: sent {expected} stored {stored}")
    finally:
        engine.dispose()
    return problems


def report(result: LoadResult, missing: List[str]) -> Dict[str, Any]:
    by_flow: Dict[str, Dict[str, Any]] = {}
    for flow in sorted({t.flow for t in result.turns}):
        by_flow[flow] = percentiles([t.latency for t in result.turns if t.flow == flow])
    return {**result.summary(), "missing_in_tracker_store": len(missing), "by_flow": by_flow,
            "first_errors": [f"{t.sender} #{t.index} {t.text!r}: {t.error}" for t in result.errors[:10]],
            "first_missing": missing[:5]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--url", help="an already running Rasa server (loopback)")
    parser.add_argument("--tracker-db", help="SQLite file or SQLAlchemy URL of its tracker store")
    parser.add_argument("--rest-token", help="REST_AUTH_TOKEN of that server, if set")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)

    headers = {"Authorization": f"Bearer {args.rest_token}"} if args.rest_token else None
    stack = None
    if args.url:
        url, tracker = args.url, args.tracker_db
    else:
        from harness.stacks import AssistantStack
        from ops.model_cache import dev_model

        stack = AssistantStack(dev_model()).start()
        url, tracker = stack.url, stack.tracker_url
    try:
        result = asyncio.run(run_load(url, args.conversations, args.concurrency, headers=headers,
                                      max_seconds=args.max_seconds))
        if tracker and "://" not in tracker:
            tracker = f"sqlite:///{Path(tracker).resolve()}"
        missing = missing_turns(tracker, result) if tracker else []
        out = report(result, missing)
        if stack is not None:
            out["rss_mb"] = stack.rss_mb()
    finally:
        if stack is not None:
            stack.stop()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    if not tracker:
        print("(tracker store not checked: pass --tracker-db)", file=sys.stderr)
    return 0 if not result.errors and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
