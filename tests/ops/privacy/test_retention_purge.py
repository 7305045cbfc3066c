"""Retention purges of what a PIPL deletion does not reach by itself: the SMS outbox (server.purge, with the
credit database) and the ops console database's records of customers (ops.privacy.retention): audit entries,
handled PIPL requests, inbox decisions, PIPL export files, dead command-line tokens.  Real SQLite rows."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from credit.db.engine import get_engine, init_db, session_scope
from credit.db.sms import SmsOutbox
from ops.privacy.retention import main, purge_ops_records
from ops.project import Project
from ops.statedb import connect
from server.purge import purge_loan_database
from server.settings import Retention

NOW = datetime(2027, 6, 1, tzinfo=timezone.utc)


def test_sms_outbox_texts_are_purged_after_the_conversation_period(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    with session_scope(engine) as s:
        s.add(SmsOutbox(phone="13800001111", text="【安信】旧的提醒", created_at=NOW - timedelta(days=181)))
        s.add(SmsOutbox(phone="13800002222", text="【安信】新的提醒", created_at=NOW - timedelta(days=179)))
    retention = Retention(180, 1095, 30, 1, tmp_path)
    assert purge_loan_database(engine, retention, NOW, dry_run=True)["sms_outbox"] == 1
    assert purge_loan_database(engine, retention, NOW, dry_run=False)["sms_outbox"] == 1
    with session_scope(engine) as s:
        assert [p for (p,) in s.execute(select(SmsOutbox.phone))] == ["13800002222"]
    engine.dispose()


def _project(tmp_path: Path, monkeypatch) -> Project:
    monkeypatch.delenv("OPS_CONSOLE_DB", raising=False)
    (tmp_path / "config.yml").write_text("language: zh\n", "utf-8")
    return Project.at(tmp_path)


def test_the_ops_records_of_customers_are_purged_after_their_periods(tmp_path: Path, monkeypatch) -> None:
    project = _project(tmp_path, monkeypatch)
    old_audit, new_audit = (NOW - timedelta(days=1096)).timestamp(), (NOW - timedelta(days=1094)).timestamp()
    conn = connect(project)
    try:
        for at, target in ((old_audit, "wx:old"), (new_audit, "wx:new")):
            conn.execute("INSERT INTO audit (at, who, action, target) VALUES (?, 'anno', 'conversation_view', ?)",
                         (at, target))
        for at, state in ((old_audit, "done"), (new_audit, "done"), (old_audit, "pending")):
            conn.execute("INSERT INTO pipl_requests (kind, lookup, senders, requested_by, requested_at, state, "
                         "decided_at) VALUES ('delete', '139****5678', '[\"wx:x\"]', 'a', ?, ?, ?)",
                         (at, state, at if state != "pending" else None))
        for days, key in ((181, "old"), (1, "new")):
            conn.execute("INSERT INTO inbox_decisions (key, decision, text, by, at) "
                         "VALUES (?, 'skip', '进度呢', 'a', ?)", (key, (NOW - timedelta(days=days)).timestamp()))
        conn.execute("INSERT INTO cli_tokens (token_hash, username, kind, created_at, expires_at) "
                     "VALUES ('h1', 'a', 'login', 0, ?)", (NOW.timestamp() - 2 * 86400,))
        conn.execute("INSERT INTO cli_tokens (token_hash, username, kind, created_at, expires_at) "
                     "VALUES ('h2', 'a', 'automation', 0, ?)", (NOW.timestamp() + 86400,))
    finally:
        conn.close()
    exports = tmp_path / "var" / "ops" / "pipl"
    exports.mkdir(parents=True)
    old_file, new_file = exports / "request-1.json", exports / "request-2.json"
    for path, age in ((old_file, 31), (new_file, 29)):
        path.write_text("{}")
        moment = (NOW - timedelta(days=age)).timestamp()
        os.utime(path, (moment, moment))
    retention = Retention(180, 1095, 30, 1, tmp_path)
    expected = {"audit": 1, "pipl_requests": 1, "inbox_decisions": 1, "cli_tokens": 1, "pipl_export_files": 1}
    assert purge_ops_records(project, retention, NOW, dry_run=True) == expected
    assert old_file.exists()
    assert purge_ops_records(project, retention, NOW) == expected
    conn = connect(project)
    try:
        assert [t for (t,) in conn.execute("SELECT target FROM audit")] == ["wx:new"]
        assert sorted(s for (s,) in conn.execute("SELECT state FROM pipl_requests")) == ["done", "pending"]
        assert [k for (k,) in conn.execute("SELECT key FROM inbox_decisions")] == ["new"]
        assert [h for (h,) in conn.execute("SELECT token_hash FROM cli_tokens")] == ["h2"]
    finally:
        conn.close()
    assert not old_file.exists() and new_file.exists()
    assert purge_ops_records(project, retention, NOW) == {k: 0 for k in expected}  # idempotent


def test_the_retention_command_prints_what_it_did(tmp_path: Path, monkeypatch, capsys) -> None:
    _project(tmp_path, monkeypatch)
    assert main(["--dry-run", "--now", "2027-06-01T00:00:00", "--project", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True and set(printed["deleted"]) >= {"audit", "pipl_requests"}
