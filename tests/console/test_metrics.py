"""Dashboard figures equal figures computed independently here, straight from the seeded tracker store
(sqlite3 + JSON, the definitions of docs/ops-metrics.md) and the seeded credit database."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest

from tests.console.conftest import Console

FALLBACK_ACTIONS = {"action_default_fallback", "action_fallback", "action_two_stage_fallback"}
HANDOFF_ACTIONS = {"action_handoff", "utter_handoff"}
# from seed_credit: complaint tickets and handoff rows by conversation, risk events by kind
CREDIT_COMPLAINTS = {"rest:c8", "wx:c4"}
CREDIT_HANDOFFS = {"rest:c9"}
CREDIT_RISK = Counter({"urgent_need": 2, "fraud_report": 1})


def independent(db: str, since: dt.date, until: dt.date, channel: str = "") -> Dict[str, Any]:
    start = dt.datetime.combine(since, dt.time()).timestamp()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).timestamp()
    rows = sqlite3.connect(db).execute(
        "SELECT sender_id, type_name, timestamp, action_name, data FROM events WHERE timestamp >= ? AND timestamp < ? "
        "AND type_name IN ('user', 'bot', 'action') ORDER BY sender_id, timestamp, id", (start, end)).fetchall()
    per: Dict[str, List[tuple]] = defaultdict(list)
    for row in rows:
        chan = row[0].split(":")[0] if ":" in row[0] else "rest"
        if not channel or chan == channel:
            per[row[0]].append(row)
    day = (lambda ts: dt.datetime.fromtimestamp(ts).date().isoformat())  # noqa: E731
    conversations, engaged, contained, handoffs = Counter(), Counter(), Counter(), Counter()
    turns, fallbacks, intents = Counter(), Counter(), Counter()
    for sender, events in per.items():
        first_day = day(events[0][2])
        conversations[first_day] += 1
        users = [e for e in events if e[1] == "user"]
        fell_back: Set[int] = set()
        handed = sender in CREDIT_HANDOFFS
        complaint = sender in CREDIT_COMPLAINTS
        last_user = None
        for index, (_, kind, _ts, action, data) in enumerate(events):
            if kind == "user":
                last_user = index
                intent = json.loads(data)["parse_data"]["intent"]["name"]
                if intent == "nlu_fallback":
                    fell_back.add(index)
                if intent == "complain":
                    complaint = True
            elif kind == "action" and last_user is not None:
                if action in FALLBACK_ACTIONS:
                    fell_back.add(last_user)
                if action in HANDOFF_ACTIONS:
                    handed = True
            elif kind == "bot" and last_user is not None:
                if ((json.loads(data).get("data") or {}).get("custom") or {}).get("type") == "handoff":
                    handed = True
        for index, event in enumerate(events):
            if event[1] != "user":
                continue
            turns[day(event[2])] += 1
            if index in fell_back:
                fallbacks[day(event[2])] += 1
            else:
                intents[json.loads(event[4])["parse_data"]["intent"]["name"]] += 1
        if users:
            engaged[first_day] += 1
            contained[first_day] += int(not handed and not complaint)
            handoffs[first_day] += int(handed)
    return {"conversations": conversations, "engaged": engaged, "contained": contained, "handoffs": handoffs,
            "turns": turns, "fallbacks": fallbacks, "intents": intents}


def test_dashboard_equals_an_independent_count(console: Console) -> None:
    since, until = dt.date.today() - dt.timedelta(days=6), dt.date.today()
    client = console.client("auditor")
    for channel in ("", "rest", "wx", "web"):
        expected = independent(str(console.tracker), since, until, channel)
        reply = client.get(f"/dashboard/data.json?since={since}&until={until}&channel={channel}",
                           headers={"Accept": "application/json"})
        tables = json.loads(reply.text)["tables"]
        header, rows = tables["daily"]["header"], tables["daily"]["rows"]
        by_day = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
        for day in [(since + dt.timedelta(days=i)).isoformat() for i in range(7)]:
            got = by_day[day]
            assert got["对话数"] == expected["conversations"][day], (channel, day)
            assert got["有客户消息的对话"] == expected["engaged"][day], (channel, day)
            assert got["自助解决对话"] == expected["contained"][day], (channel, day)
            assert got["客户消息数"] == expected["turns"][day], (channel, day)
            assert got["兜底次数"] == expected["fallbacks"][day], (channel, day)
            assert got["转人工对话"] == expected["handoffs"][day], (channel, day)
        total = by_day["合计"]
        engaged = sum(expected["engaged"].values())
        assert total["自助解决率"] == round(sum(expected["contained"].values()) / engaged, 4) if engaged else 0
        turns = sum(expected["turns"].values())
        assert total["兜底率"] == (round(sum(expected["fallbacks"].values()) / turns, 4) if turns else 0)
        assert total["转人工率"] == (round(sum(expected["handoffs"].values()) / engaged, 4) if engaged else 0)
        top = {row[0]: row[1] for row in tables["intents"]["rows"]}
        assert top == dict(expected["intents"].most_common(10)) or set(top) <= set(expected["intents"])
        for intent, count in top.items():
            assert expected["intents"][intent] == count
    # the whole seeded set, by hand: 14 conversations in the period (rest:old is outside), one without a
    # customer message; fallbacks: c3, c5, c7 (the formula one)
    everything = independent(str(console.tracker), since, until)
    assert sum(everything["conversations"].values()) == 14 and sum(everything["engaged"].values()) == 13
    assert sum(everything["fallbacks"].values()) == 3
    # credit database: complaint categories, tickets near their deadline, risk events
    tables = json.loads(client.get(f"/dashboard/data.json?since={since}&until={until}").text)["tables"]
    assert dict(map(tuple, tables["complaints"]["rows"])) == {"费用": 1, "审批/放款慢": 1}
    assert [r[0] for r in tables["deadlines"]["rows"]] == ["TK202611300002", "TK202611300001"]
    assert tables["deadlines"]["rows"][0][5] == "是"  # already overdue
    assert dict(map(tuple, tables["risk"]["rows"])) == dict(CREDIT_RISK)
    reasons = dict(map(tuple, tables["handoff_reasons"]["rows"]))
    assert sum(reasons.values()) == sum(everything["handoffs"].values())
    assert reasons["客户要求转人工"] == 7  # c2, c5 and the five new phrasings


@pytest.mark.postgres
def test_metrics_are_the_same_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The same seeded conversations and credit rows in PostgreSQL give the same figures as in SQLite."""
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine.url import make_url

    from ops.console import metrics
    from tests.console.conftest import seed_credit, seed_tracker

    tracker = tmp_path / "tracker.db"
    seed_tracker(tracker)
    credit_sqlite = f"sqlite:///{tmp_path / 'credit.db'}"
    seed_credit(credit_sqlite)
    name = f"console_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pg_url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                                 "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                                 "action_name VARCHAR(255), data TEXT)"))
            rows = sqlite3.connect(tracker).execute("SELECT sender_id, type_name, timestamp, intent_name, "
                                                    "action_name, data FROM events ORDER BY id").fetchall()
            conn.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                                 "VALUES (:s, :t, :ts, :i, :a, :d)"),
                         [dict(zip(("s", "t", "ts", "i", "a", "d"), r, strict=True)) for r in rows])
        seed_credit(pg_url)
        since, until = dt.date.today() - dt.timedelta(days=6), dt.date.today()
        now = dt.datetime.now(dt.timezone.utc)
        on_pg = metrics.tables(metrics.compute(pg_url, pg_url, since, until, now=now))
        on_sqlite = metrics.tables(metrics.compute(f"sqlite:///{tracker}", credit_sqlite, since, until, now=now))
        assert on_pg == on_sqlite and on_pg["daily"][1][-1][1] == 14
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
