"""Scale-out check, the way Rasa runs in production: two (or more) Rasa servers behind
nginx, sharing a Redis lock store and a PostgreSQL tracker store, one action server, the
loan database on PostgreSQL — all from Debian packages (postgresql, redis-server, nginx),
on loopback, in a temporary directory, stopped afterwards.

    .venv/bin/python -m bench.scaleout                 # 2 Rasa servers (about 3 minutes on 2 cores)
    .venv/bin/python -m bench.scaleout --servers 3 --conversations 40

Checks (exit code 0 only if all hold):
1. one conversation through nginx (round robin: consecutive turns land on different
   servers, read from nginx's access log) through a form with two interruptions;
2. one conversation whose turns are sent to the servers directly, alternating;
3. for both: every server returns the same tracker; user turns in the order sent; one
   session; events in time order; the form finished and the result was given;
4. two messages of one conversation sent at the same moment to two servers are handled
   one after the other (Redis lock store): the turns do not interleave;
5. N concurrent conversations through nginx: no errors, every turn in PostgreSQL.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bench.load import missing_turns, report, run_load
from harness.http import Response, http
from harness.nginx import Nginx
from harness.procs import Proc, free_port
from harness.rasa import base_env, conversation_id, seed, start_action_server, start_rasa, wait_rasa, write_endpoints
from harness.services import Postgres, Redis
from ops.model_cache import dev_model

TOKEN = "scaleout-rasa-token"
REST_TOKEN = "scaleout-rest-token"
AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}

# (text, a word the reply must contain)
FORM_WITH_INTERRUPTIONS = [
    ("查进度", "申请编号"),
    ("你们的贷款利息多少", "年化"),      # interruption: answered, then the form asks again
    ("SQ202611200001", "身份证"),
    ("提前还款要手续费吗", "手续费"),    # interruption while waiting for the ID digits
    ("1234", "审批中"),
    ("谢谢", None),
]


class ScaleOut:
    def __init__(self, model: Path, servers: int = 2, workdir: Optional[Path] = None) -> None:
        self.model = model
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="scaleout-"))
        self.pg = Postgres()
        self.redis = Redis()
        self.action_port = free_port()
        self.rasa_ports = [free_port() for _ in range(servers)]
        self.nginx: Optional[Nginx] = None
        self.actions: Optional[Proc] = None
        self.rasa: List[Proc] = []
        self.log: List[str] = []

    def say(self, line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.log.append(f"[{stamp}] {line}")
        print(f"[{stamp}] {line}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "ScaleOut":
        started = time.monotonic()
        self.pg.start()
        self.redis.start()
        loan_db = self.pg.create_database("credit")
        env = base_env(DATABASE_URL=loan_db, REST_AUTH_TOKEN=REST_TOKEN, SANIC_WORKERS="1")
        seed(env)
        self.say(f"PostgreSQL :{self.pg.port} (tracker store db 'rasa', loan db 'credit'), Redis :{self.redis.port}")
        endpoints = write_endpoints(
            self.workdir / "endpoints.yml", f"http://127.0.0.1:{self.action_port}/webhook",
            {"type": "SQL", "dialect": "postgresql", "url": "127.0.0.1", "port": self.pg.port, "db": "rasa",
             "login_db": "postgres", "username": "postgres"},
            {"type": "redis", "url": "127.0.0.1", "port": self.redis.port, "db": 1, "key_prefix": "credit"})
        self.actions = start_action_server(self.action_port, env, self.workdir / "actions.log")
        self.say(f"action server :{self.action_port}")
        for i, port in enumerate(self.rasa_ports):
            self.rasa.append(start_rasa(self.model, port, endpoints, env, self.workdir / f"rasa-{i}.log", TOKEN,
                                              wait=False))
        for port, proc in zip(self.rasa_ports, self.rasa, strict=True):
            wait_rasa(f"http://127.0.0.1:{port}", TOKEN, proc, timeout=600)
        self.say(f"Rasa servers {', '.join(f':{p}' for p in self.rasa_ports)} (hardened launcher)")
        self.nginx = Nginx(self.rasa_ports).start()
        self.say(f"nginx :{self.nginx.port} -> round robin over {len(self.rasa_ports)} Rasa servers "
                 f"(all up after {time.monotonic() - started:.0f} s)")
        return self

    def stop(self) -> None:
        if self.nginx:
            self.nginx.cleanup()
        for proc in self.rasa:
            proc.stop()
        if self.actions:
            self.actions.stop()
        self.redis.cleanup()
        self.pg.cleanup()

    # ------------------------------------------------------------------ helpers
    @property
    def nginx_url(self) -> str:
        assert self.nginx is not None
        return f"http://127.0.0.1:{self.nginx.port}"

    def backend(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i % len(self.rasa_ports)]}"

    def turn(self, base: str, sender: str, text: str) -> Response:
        return http("POST", f"{base}/webhooks/rest/webhook", {"sender": sender, "message": text},
                          headers=AUTH, timeout=60)

    def tracker(self, base: str, sender: str) -> Dict[str, Any]:
        return http("GET", f"{base}/conversations/{conversation_id(sender)}/tracker?token={TOKEN}").json()

    def upstreams(self, since: int) -> List[str]:
        assert self.nginx is not None
        lines = self.nginx.access_log.read_text().splitlines()[since:]
        return [line.split("upstream=")[1].split()[0] for line in lines if "/webhooks/rest/webhook" in line]

    # ------------------------------------------------------------------ checks
    def run_conversation(self, sender: str, route: str) -> Dict[str, Any]:
        """route: 'nginx' or 'alternate' (turn i to server i mod n)."""
        problems: List[str] = []
        served: List[str] = []
        log_start = len(self.nginx.access_log.read_text().splitlines()) if self.nginx else 0
        for i, (text, expect) in enumerate(FORM_WITH_INTERRUPTIONS):
            base = self.nginx_url if route == "nginx" else self.backend(i)
            response = self.turn(base, sender, text)
            reply = " / ".join(m.get("text", "")[:40] for m in response.json()) if response.status == 200 else ""
            where = base.rsplit(":", 1)[1]
            self.say(f"  {route} turn {i + 1} via :{where} {text!r} -> {response.status} {reply[:90]!r}")
            if response.status != 200:
                problems.append(f"turn {i + 1}: HTTP {response.status}")
            elif response.headers.get("x-degraded"):
                problems.append(f"turn {i + 1}: degraded {response.headers['x-degraded']}")
            elif expect and expect not in reply and expect not in response.text:
                problems.append(f"turn {i + 1}: expected {expect!r} in {reply!r}")
            served.append(where)
        if route == "nginx":
            time.sleep(0.5)  # nginx writes its access log line after the response
            served = [u.rsplit(":", 1)[1] for u in self.upstreams(log_start)]
            self.say(f"  nginx sent the turns to {served}")
            if len(set(served)) < min(len(self.rasa_ports), len(FORM_WITH_INTERRUPTIONS)):
                problems.append(f"not every server took turns: {served}")
            if any(a == b for a, b in zip(served, served[1:], strict=False)):
                problems.append(f"consecutive turns on the same server: {served}")
        problems += self.check_tracker(sender)
        return {"sender": sender, "route": route, "servers": served, "problems": problems}

    def check_tracker(self, sender: str) -> List[str]:
        problems: List[str] = []
        trackers = [self.tracker(self.backend(i), sender) for i in range(len(self.rasa_ports))]
        first = trackers[0]
        for i, other in enumerate(trackers[1:], start=2):
            if other.get("events") != first.get("events") or other.get("slots") != first.get("slots"):
                problems.append(f"server {i} returns a different tracker than server 1")
        events = first.get("events", [])
        users = [e.get("text") for e in events if e.get("event") == "user"]
        if users != [t for t, _ in FORM_WITH_INTERRUPTIONS]:
            problems.append(f"user turns out of order or missing: {users}")
        stamps = [e.get("timestamp") or 0 for e in events]
        if stamps != sorted(stamps):
            problems.append("events are not in time order")
        sessions = sum(1 for e in events if e.get("event") == "session_started")
        if sessions != 1:
            problems.append(f"{sessions} session starts (expected 1)")
        if (first.get("active_loop") or {}).get("name"):
            problems.append(f"a form is still active: {first['active_loop']}")
        loops = [e.get("name") for e in events if e.get("event") == "active_loop"]
        if "progress_form" not in loops or loops[-1] is not None:
            problems.append(f"the progress form did not run and finish: {loops}")
        if first.get("slots", {}).get("verified_application") != "SQ202611200001":
            problems.append(f"verified_application = {first.get('slots', {}).get('verified_application')!r}")
        return problems

    def simultaneous_turns(self, rounds: int = 5) -> Dict[str, Any]:
        """Two messages of one conversation at the same moment on two servers, `rounds` times."""
        problems: List[str] = []
        texts = ["你们的贷款利息多少", "提前还款要手续费吗"]
        for r in range(rounds):
            sender = f"so-lock-{uuid.uuid4().hex[:8]}"
            self.turn(self.backend(0), sender, "你好")
            results: Dict[int, Response] = {}
            barrier = threading.Barrier(2)

            def send(i: int, sender: str = sender, results: Dict[int, Response] = results,
                     barrier: threading.Barrier = barrier) -> None:
                barrier.wait(timeout=30)
                results[i] = self.turn(self.backend(i), sender, texts[i])

            threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            for _i, response in sorted(results.items()):
                if response.status != 200 or response.headers.get("x-degraded"):
                    problems.append(f"round {r + 1}: HTTP {response.status} {response.headers.get('x-degraded', '')}")
            events = self.tracker(self.backend(0), sender).get("events", [])
            kinds = [("user" if e.get("event") == "user" else
                      "listen" if e.get("event") == "action" and e.get("name") == "action_listen" else None)
                     for e in events]
            kinds = [k for k in kinds if k]
            users = [e.get("text") for e in events if e.get("event") == "user"]
            if sorted(users[1:]) != sorted(texts):
                problems.append(f"round {r + 1}: user turns {users} (a turn was lost)")
            if any(a == b == "user" for a, b in zip(kinds, kinds[1:], strict=False)):
                problems.append(f"round {r + 1}: two user messages interleaved")
            self.say(f"  round {r + 1}: simultaneous turns on two servers -> "
                     f"{[results[i].status for i in sorted(results)]}, user turns stored {len(users)}/3, "
                     f"pattern {' '.join(kinds)}")
        return {"rounds": rounds, "problems": problems}

    def concurrent_load(self, conversations: int, concurrency: int) -> Dict[str, Any]:
        result = asyncio.run(run_load(self.nginx_url, conversations, concurrency, headers=AUTH, prefix="so",
                                      max_seconds=600))
        missing = missing_turns(self.pg.url("rasa"), result)
        out = report(result, missing)
        self.say(f"  {conversations} conversations through nginx, {concurrency} at a time: {out['turns']} turns, "
                 f"{out['errors']} errors, {out['missing_in_tracker_store']} missing in PostgreSQL, "
                 f"p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, {out['turns_per_second']} turns/s")
        problems = out["first_errors"] + out["first_missing"]
        return {"summary": out, "problems": problems}


def run_scaleout(model: Optional[Path] = None, servers: int = 2, conversations: int = 20,
                 concurrency: int = 20) -> Dict[str, Any]:
    started = time.monotonic()
    deployment = ScaleOut(model or dev_model(), servers)
    report: Dict[str, Any] = {"servers": servers}
    try:
        deployment.start()
        report["startup_seconds"] = round(time.monotonic() - started, 1)
        deployment.say("check 1: one conversation through nginx (form with two interruptions)")
        report["nginx_conversation"] = deployment.run_conversation(f"so-nginx-{uuid.uuid4().hex[:8]}", "nginx")
        deployment.say("check 2: one conversation alternating between the servers directly")
        report["alternating_conversation"] = deployment.run_conversation(f"so-alt-{uuid.uuid4().hex[:8]}",
                                                                         "alternate")
        deployment.say("check 3: simultaneous messages of one conversation on two servers (Redis lock)")
        report["simultaneous"] = deployment.simultaneous_turns()
        deployment.say(f"check 4: {conversations} concurrent conversations through nginx")
        report["load"] = deployment.concurrent_load(conversations, concurrency)
    finally:
        deployment.stop()
    problems = [p for key in ("nginx_conversation", "alternating_conversation", "simultaneous", "load")
                for p in report.get(key, {}).get("problems", ["did not run"])]
    report["problems"] = problems
    report["ok"] = not problems
    if report["ok"]:
        shutil.rmtree(deployment.workdir, ignore_errors=True)
    else:
        report["logs"] = str(deployment.workdir)  # kept for a look at the server logs
    report["seconds"] = round(time.monotonic() - started, 1)
    report["log"] = deployment.log
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args(argv)
    report = run_scaleout(args.model, args.servers, args.conversations, args.concurrency)
    print(json.dumps({k: v for k, v in report.items() if k != "log"}, ensure_ascii=False, indent=2))
    print(("OK" if report["ok"] else "FAILED") + f" in {report['seconds']} s", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
