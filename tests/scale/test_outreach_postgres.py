"""Two outreach engines, as two OS processes (`python -m outreach run --once`), on one real PostgreSQL
database (Debian's package, throw-away, loopback), started together round after round on the same injected
clock (CREDIT_FAKE_NOW, HARDENING_MODE=development): every notice is planned once and sent exactly once
(one `sent` audit row, one SMS in the outbox), the daily cap holds across the two, and both engines did
real work.  Each round closes a fresh batch of tickets, so both processes find the same ~20 notices due
at the same moment and race for them.  About 30 s.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Dict, Iterator, List, Set

import pytest
from sqlalchemy import create_engine, select, text

from credit.catalogue.loader import load_catalogue
from credit.db.engine import get_engine, session_scope
from credit.db.loans import Application, Customer
from credit.db.outreach import ContactPoint, OutreachAttempt, OutreachNotice
from credit.db.sms import SmsOutbox
from credit.db.tickets import TicketOutcome
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.tickets.records import close_ticket, new_ticket
from harness.paths import ROOT
from harness.procs import Proc, start, wait_until
from outreach.engine import render

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CAT = load_catalogue()
START = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)  # contact hours, Beijing time
ROUNDS = 4
PER_ROUND = 18  # customers whose ticket closes just before each round: one follow-up each
BUSY = 4  # tickets of one customer closed in the first round: more than the daily cap
ROUND_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL (tests/conftest.py: skipped only without the binaries)."""
    name = f"outreach_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        base = postgres_url.rsplit("/", 1)[0]
        yield f"{base}/{name}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def add_customers(engine, count: int, first: int) -> List[str]:
    """``count`` customers with a verified, subscribed mobile, an application and an open complaint each."""
    numbers = []
    with session_scope(engine) as s:
        for i in range(first, first + count):
            customer = Customer(name=f"测试{i}", id_last4=f"{i % 10_000:04d}", id_number_masked="110***********0000",
                                phone=f"1370000{i:04d}", created_at=START - timedelta(days=30))
            s.add(customer)
            s.flush()
            app_id = f"SQ2026{i:08d}"
            s.add(Application(application_id=app_id, customer_id=customer.id, product="suixinjie",
                              amount=Decimal("10000"), term=12, stage="reviewing",
                              submitted_at=START - timedelta(days=10), stage_updated_at=START - timedelta(days=10)))
            s.add(ContactPoint(customer_id=customer.id, channel="sms", address=customer.phone, verified=True,
                               subscribed=True, changed_at=customer.created_at))
            numbers.append(new_ticket(s, START - timedelta(days=2), f"rest:c{i}", "complaint", "处理太慢", None,
                                      "slow", app_id).number)
    return numbers


def busy_customer(engine) -> tuple[int, List[str]]:
    """One customer with BUSY open complaints (all closed in round 0)."""
    with session_scope(engine) as s:
        customer = Customer(name="忙客户", id_last4="0001", id_number_masked="110***********0001",
                            phone="13600000001", created_at=START - timedelta(days=30))
        s.add(customer)
        s.flush()
        s.add(Application(application_id="SQ202699999999", customer_id=customer.id, product="suixinjie",
                          amount=Decimal("10000"), term=12, stage="reviewing",
                          submitted_at=START - timedelta(days=10), stage_updated_at=START - timedelta(days=10)))
        s.add(ContactPoint(customer_id=customer.id, channel="sms", address=customer.phone, verified=True,
                           subscribed=True, changed_at=customer.created_at))
        numbers = [new_ticket(s, START - timedelta(days=1), "rest:busy", "complaint", "多个问题", None, "fee",
                              "SQ202699999999").number for _ in range(BUSY)]
        return customer.id, numbers


def waiting_on_notices(conn) -> int:
    """Sessions blocked on the notices table (the starting gate below)."""
    return int(conn.execute(text("SELECT count(*) FROM pg_locks WHERE relation = 'outreach_notices'::regclass "
                                 "AND NOT granted")).scalar() or 0)


def sweep_pair(url: str, at: datetime, logs: Path, round_no: int) -> List[Proc]:
    """Both engines on the same clock, released at the same instant: the test holds the notices table locked
    while both processes start (about 3 s of imports each), and lets go once both wait on it, so their
    sweeps overlap from the first query.  Bounded waits; both processes are always stopped."""
    # SMS only (the outbox gateway): no WeChat, phone or conversation settings leak in from the caller
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WECHAT_", "SMS_", "IVR_", "TWILIO_", "RASA_", "PUBLIC_BASE_URL"))}
    env.update(DATABASE_URL=url, CREDIT_FAKE_NOW=at.isoformat(), HARDENING_MODE="development",
               PYTHONHASHSEED="0")
    gate = create_engine(url)
    procs: List[Proc] = []
    try:
        with gate.connect() as watcher, gate.connect() as holder:
            lock = holder.begin()
            holder.execute(text("LOCK TABLE outreach_notices IN ACCESS EXCLUSIVE MODE"))
            procs = [start(f"outreach-{round_no}-{n}", [sys.executable, "-m", "outreach", "run", "--once"], env,
                           logs / f"round{round_no}-{n}.log", cwd=ROOT) for n in "ab"]
            try:
                wait_until(lambda: all(p.alive() for p in procs) and waiting_on_notices(watcher) == 2, 90,
                           "both engines at the starting gate", procs[0], interval=0.1)
            finally:
                lock.rollback()  # the gate opens (or, on failure, never blocks the processes being stopped)
        for proc in procs:
            proc.popen.wait(timeout=ROUND_TIMEOUT_S)
    finally:
        for proc in procs:
            proc.stop(timeout=10)
        gate.dispose()
    for proc in procs:
        assert proc.popen.returncode == 0, f"{proc.name} exited {proc.popen.returncode}:\n{proc.tail()}"
        assert "发送" in proc.tail(), proc.tail()
    return procs


def test_two_engine_processes_on_postgresql_send_each_notice_once(database: str, tmp_path: Path) -> None:
    engine = get_engine(database)
    try:
        seed(engine, now=START, reset=True)  # the demo loans' own reminders fall due at START too
        batches = [add_customers(engine, PER_ROUND, 1 + r * PER_ROUND) for r in range(ROUNDS)]
        busy_id, busy_tickets = busy_customer(engine)
        workers: Dict[int, Set[str]] = {}
        for r, batch in enumerate(batches):
            at = START + timedelta(minutes=15 * r)
            for number in batch + (busy_tickets if r == 0 else []):
                close_ticket(engine, number, "已加急处理完毕", "主管王", at - timedelta(minutes=1))
            procs = sweep_pair(database, at, tmp_path, r)
            workers[r] = {f"{socket.gethostname()}:{proc.pid}" for proc in procs}
        check(engine, batches, busy_id, workers)
    finally:
        engine.dispose()


def check(engine, batches: List[List[str]], busy_id: int, workers: Dict[int, Set[str]]) -> None:
    with session_scope(engine) as s:
        notices = s.execute(select(OutreachNotice)).scalars().all()
        attempts = s.execute(select(OutreachAttempt)).scalars().all()
        outbox = {f"outbox:{row.id}": row for row in s.execute(select(SmsOutbox)).scalars()}
        points = {p.id: p.address for p in s.execute(select(ContactPoint)).scalars()}
        unanswered = s.execute(select(TicketOutcome).where(TicketOutcome.answered_at.is_(None))).scalars().all()
    by_key = Counter(n.key for n in notices)
    assert by_key and max(by_key.values()) == 1  # planned once
    expected = {f"ticket_followup:{number}" for batch in batches for number in batch}
    assert expected <= set(by_key) and len(unanswered) == ROUNDS * PER_ROUND + BUSY

    sent_audit = Counter(a.notice_id for a in attempts if a.outcome == "sent")
    held_audit = Counter(a.notice_id for a in attempts if a.outcome == "held")
    busy = [n for n in notices if n.customer_id == busy_id]
    held_busy = [n for n in busy if n.status == "pending" and "每日上限" in (n.reason or "")]
    problems = []
    for n in notices:
        if n in held_busy:  # held once, by one engine (the other skipped the row it had in hand)
            assert sent_audit[n.id] == 0 and held_audit[n.id] == 1 and n.vendor_ref is None
            continue
        if n.status != "sent" or sent_audit[n.id] != 1 or n.vendor_ref not in outbox:
            problems.append(f"{n.key}: {n.status} sent-audits={sent_audit[n.id]} ref={n.vendor_ref} {n.reason}")
    assert not problems, "\n".join(problems)

    sent = [n for n in notices if n.status == "sent"]
    assert len(outbox) == len(sent) == len({n.vendor_ref for n in sent})  # one SMS per notice, none spare
    for n in sent:
        row = outbox[n.vendor_ref]
        fields = json.loads(n.fields)
        assert row.phone == points[n.contact_point_id] and row.text == render(CAT, n.kind, _Screen(), fields)

    # the daily cap holds across the two engines: the busy customer got two follow-ups, the rest wait
    assert sum(1 for n in busy if n.status == "sent") == CAT.outreach.daily_cap
    assert len(held_busy) == BUSY - CAT.outreach.daily_cap

    senders_by_round = defaultdict(set)
    for a in attempts:
        if a.outcome == "sent":
            senders_by_round[next(r for r, ws in workers.items() if a.worker in ws)].add(a.worker)
    all_senders = set().union(*senders_by_round.values())
    assert len(all_senders) >= 2, senders_by_round  # both processes sent notices ...
    assert any(len(ws) == 2 for ws in senders_by_round.values()), senders_by_round  # ... in the same round
    assert {a.worker for a in attempts} <= set().union(*workers.values())
    assert all(n.sent_at is not None and n.sent_at.date() >= date(2026, 12, 1) for n in sent)


class _Screen:
    """What :func:`outreach.engine.render` needs of the SMS channel: a screen others may see."""

    name = "sms"
    private = False
