"""One sender's burst: N messages of one conversation sent at once through REST (issue 14, item 4).

    .venv/bin/python -m bench.burst                        # 30 messages, client timeout 60 s, ours + moodbot
    .venv/bin/python -m bench.burst --messages 12 --client-timeout 5 --only ours --text 利息多少
    .venv/bin/python -m bench.burst --lock-probe             # Rasa's lock store alone, in this process

Every message waits for the conversation's lock (the in-memory lock store, one Rasa server).
Reports, per message, when it was answered and with what status (200, or 429 = refused before it
was accepted: connectors/admission.py), and whether its text is in the tracker store afterwards:
``lost`` lists accepted messages missing from the store (a request abandoned by the client,
``--client-timeout``, must still be stored).
Threads and ``harness.http`` only; loopback only.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence

from harness.http import http
from harness.moodbot import MoodbotStack, moodbot_model
from harness.rasa import tracker_path
from harness.stacks import TOKEN, AssistantStack


def texts(n: int, base: str) -> List[str]:
    """Distinct, harmless messages (letters only: no number for the entity extractor)."""
    return [f"{base} {chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(n)]


def burst(url: str, sender: str, messages: List[str], client_timeout: float) -> List[Dict[str, Any]]:
    started = time.monotonic()

    def one(i: int) -> Dict[str, Any]:
        time.sleep(0.002 * i)  # arrival order = list order
        sent = time.monotonic() - started
        try:
            response = http("POST", f"{url}/webhooks/rest/webhook", {"sender": sender, "message": messages[i]},
                            timeout=client_timeout)
            status, body = response.status, response.text[:120]
            retry_after = response.headers.get("retry-after")
        except OSError as error:  # the client gave up (timeout) or the connection failed
            status, body, retry_after = 0, f"{type(error).__name__}: {error}"[:120], None
        return {"i": i, "text": messages[i], "sent_s": round(sent, 3),
                "answered_s": round(time.monotonic() - started, 3), "status": status, "body": body,
                "retry_after": retry_after}

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        return list(pool.map(one, range(len(messages))))


def lock_probe(waiters: int, turn_s: float, first_turn_s: float, lifetime: float) -> List[Dict[str, Any]]:
    """Rasa's ``InMemoryLockStore`` in this process, no server: ``waiters`` turns of one conversation
    queued at once; when each ended, or the ``LockError`` it got."""
    import asyncio

    from rasa.core.lock_store import InMemoryLockStore, LockError

    async def run() -> List[Dict[str, Any]]:
        store, started, out = InMemoryLockStore(), time.monotonic(), []

        async def one(i: int) -> None:
            await asyncio.sleep(0.002 * i)
            try:
                async with store.lock("probe", lock_lifetime=lifetime):
                    await asyncio.sleep(first_turn_s if i == 0 else turn_s)  # a turn that yields (an action call)
                out.append({"i": i, "ended_s": round(time.monotonic() - started, 2), "result": "processed"})
            except LockError:
                out.append({"i": i, "ended_s": round(time.monotonic() - started, 2), "result": "LockError"})

        await asyncio.gather(*(one(i) for i in range(waiters)))
        return sorted(out, key=lambda r: r["i"])

    return asyncio.run(run())


def stored_texts(url: str, conversation: str) -> List[str]:
    tracker = http("GET", f"{url}{tracker_path(conversation)}?token={TOKEN}", timeout=30).json() or {}
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def summarise(name: str, rows: List[Dict[str, Any]], stored: List[str]) -> Dict[str, Any]:
    ok = [r for r in rows if r["status"] == 200]
    answered = sorted(r["answered_s"] for r in ok)
    gaps = [round(b - a, 3) for a, b in zip(answered, answered[1:], strict=False)]
    for r in rows:
        r["in_tracker"] = r["text"] in stored
    return {"bot": name, "messages": len(rows), "answered_200": len(ok),
            "client_gave_up": sum(1 for r in rows if r["status"] == 0),
            "refused_429": sum(1 for r in rows if r["status"] == 429),
            "other_status": sorted({r["status"] for r in rows} - {0, 200, 429}),
            "in_tracker": sum(r["in_tracker"] for r in rows),
            # lost: accepted (not refused with 429) and yet not in the tracker store
            "lost": [r["i"] for r in rows if not r["in_tracker"] and r["status"] != 429],
            "last_answer_s": answered[-1] if answered else None,
            "median_gap_between_answers_s": sorted(gaps)[len(gaps) // 2] if gaps else None,
            "rows": rows}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--client-timeout", type=float, default=60)
    parser.add_argument("--only", choices=("ours", "moodbot"))
    parser.add_argument("--text", default="你好", help="message of ours (a custom action: 利息多少)")
    parser.add_argument("--lock-probe", action="store_true",
                        help="no servers: Rasa's in-memory lock store in-process, 50 ms turns (and a 3 s lifetime "
                             "with a 4 s first turn: what happens to waiters whose ticket expires)")
    args = parser.parse_args(argv)
    if args.lock_probe:
        for rows in (lock_probe(args.messages, 0.05, 0.05, 60), lock_probe(8, 0.05, 4.0, 3)):
            print(json.dumps(rows))
        return 0
    from ops.model_cache import dev_model

    results = []
    if args.only != "moodbot":
        ours = AssistantStack(dev_model()).start()
        try:
            ours.assistant.rest("burst-warm", "你好")
            rows = burst(ours.url, "burst-1", texts(args.messages, args.text), args.client_timeout)
            time.sleep(2)
            results.append(summarise("ours", rows, stored_texts(ours.url, "rest:burst-1")))
        finally:
            ours.stop()
    if args.only != "ours":
        mood = MoodbotStack(moodbot_model()).start()
        try:
            http("POST", f"{mood.url}/webhooks/rest/webhook", {"sender": "warm", "message": "hello"}, timeout=60)
            rows = burst(mood.url, "burst-1", texts(args.messages, "hello"), args.client_timeout)
            time.sleep(2)
            results.append(summarise("moodbot", rows, stored_texts(mood.url, "burst-1")))
        finally:
            mood.stop()
    for r in results:
        print(json.dumps({k: v for k, v in r.items() if k != "rows"}, ensure_ascii=False))
        for row in r["rows"]:
            print("  ", json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
