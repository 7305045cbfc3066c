"""Fast checks of the hardening pieces without a running server: settings, REST access
rule, masking at rest, the never-silent hooks, the launcher's API-protection rule and the
retention purge (against real SQLite rows)."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from credit.compliance import check_text
from credit.db.engine import get_engine, init_db
from credit.db.identity import OtpCode, Verification, VerificationAttempt
from credit.db.interceptions import Interception
from credit.db.loans import Customer
from credit.db.outreach import OutreachAttempt, OutreachNotice
from credit.db.sms import SmsOutbox
from credit.db.tickets import Handoff, RiskEvent, Ticket, TicketContact
from server import auth, guard
from server.__main__ import rasa_run_args
from server.at_rest import mask_event_dict
from server.purge import purge
from server.settings import Retention, Settings

# --------------------------------------------------------------------------- settings


def test_settings_defaults_and_overrides(tmp_path: Path) -> None:
    default = Settings.from_env({})
    assert default.action_timeout_s == 5.0
    assert default.action_host == "127.0.0.1"
    assert default.rest_auth_token is None
    r = default.retention
    assert (r.conversations_days, r.tickets_days, r.exports_days) == (180, 1095, 30)
    custom = Settings.from_env({"ACTION_TIMEOUT_S": "2.5", "REST_AUTH_TOKEN": " s3cret ",
                                "RETENTION_TICKETS_DAYS": "10", "EXPORT_DIR": str(tmp_path)})
    assert custom.action_timeout_s == 2.5 and custom.rest_auth_token == "s3cret"
    assert custom.retention.tickets_days == 10 and custom.retention.export_dir == tmp_path
    # nonsense falls back to safe values instead of crashing the server
    odd = Settings.from_env({"ACTION_TIMEOUT_S": "soon", "RETENTION_EXPORTS_DAYS": "-5"})
    assert odd.action_timeout_s == 5.0 and odd.retention.exports_days == 1


# --------------------------------------------------------------------------- REST access


LOCAL = {"host": "127.0.0.1:5005"}


@pytest.mark.parametrize("path,route", [
    ("/webhooks/rest/webhook", None), ("/webhooks/rest/", None), ("/webhooks/rest", None),
    ("//webhooks//rest/webhook", None), ("/webhooks/%72est/webhook", None), ("/WEBHOOKS/REST/webhook", None),
    ("/anything", "webhooks/rest/webhook"),
])
def test_rest_paths_are_protected_however_spelt(path: str, route: str) -> None:
    assert auth.is_protected(path, route)


@pytest.mark.parametrize("path", ["/webhooks/wechat/webhook", "/webhooks/restx/webhook", "/status", "/"])
def test_other_paths_are_not_the_rest_channel(path: str) -> None:
    assert not auth.is_protected(path)


def test_without_token_only_plain_loopback_callers_pass() -> None:
    assert auth.decide("127.0.0.1", LOCAL, None).allowed
    assert auth.decide("::1", {"host": "[::1]:5005"}, None).allowed
    assert auth.decide("::ffff:127.0.0.1", {"host": "localhost:5005"}, None).allowed
    refused = [
        auth.decide("192.0.2.7", LOCAL, None),                                   # another machine
        auth.decide("127.0.0.1", {**LOCAL, "x-forwarded-for": "203.0.113.9"}, None),  # relayed by a proxy
        auth.decide("127.0.0.1", {**LOCAL, "x-real-ip": "203.0.113.9"}, None),
        auth.decide("127.0.0.1", {**LOCAL, "forwarded": "for=203.0.113.9"}, None),
        auth.decide("127.0.0.1", {"host": "evil.example:5005"}, None),           # DNS rebinding
        auth.decide("127.0.0.1", {**LOCAL, "origin": "http://evil.example"}, None),  # a web page
        auth.decide("", LOCAL, None),
    ]
    assert all(not d.allowed and d.status == 403 for d in refused)


def test_with_token_a_matching_bearer_is_required_from_anywhere() -> None:
    token = "t0ken-ü"
    assert auth.decide("192.0.2.7", {"authorization": f"Bearer {token}"}, token).allowed
    assert auth.decide("192.0.2.7", {"authorization": f"bearer   {token} "}, token).allowed
    for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": f"Basic {token}"},
                    {"authorization": "Bearer"}, {"authorization": f"Bearer {token}x"}):
        decision = auth.decide("127.0.0.1", {**LOCAL, **headers}, token)
        assert not decision.allowed and decision.status == 401


# --------------------------------------------------------------------------- masking at rest


def test_tracker_events_are_masked_before_storage() -> None:
    user = {
        "event": "user", "timestamp": 1.0, "text": "手机13812345678，身份证110101199003071234",
        "parse_data": {"text": "手机13812345678", "intent": {"name": "inform"},
                       "entities": [{"entity": "phone_number", "value": "13812345678", "start": 2, "end": 13}]},
        "metadata": {"caller": "+86 138 1234 5678", "model_id": "abc"},
        "input_channel": "rest",
    }
    stored = json.dumps(mask_event_dict(user), ensure_ascii=False)
    for raw in ("13812345678", "110101199003071234", "138 1234 5678"):
        assert raw not in stored
    assert "138****5678" in stored and "110***********1234" in stored
    assert mask_event_dict(user)["parse_data"]["intent"] == {"name": "inform"}
    slot = mask_event_dict({"event": "slot", "name": "contact_phone", "value": "13812345678"})
    assert slot["value"] == "138****5678"
    bot = mask_event_dict({"event": "bot", "text": "卡号6222020200112233445", "data": {"buttons": []}})
    assert "6222020200112233445" not in json.dumps(bot)
    # application numbers and last-four digits are not personal data: kept for the dialogue
    kept = mask_event_dict({"event": "slot", "name": "application_id", "value": "SQ202611200001"})
    assert kept["value"] == "SQ202611200001"
    assert mask_event_dict({"event": "action", "name": "action_listen"}) == {"event": "action", "name": "action_listen"}


# --------------------------------------------------------------------------- never silent


def test_ensure_reply_adds_a_polite_message_only_when_nothing_is_visible() -> None:
    assert guard.ensure_reply([]) == [{"text": guard.NO_REPLY}]
    assert guard.ensure_reply(None, "u1") == [{"recipient_id": "u1", "text": guard.NO_REPLY}]
    assert guard.ensure_reply([{"recipient_id": "u1", "text": ""}], "u1")[-1]["text"] == guard.NO_REPLY
    shown = [{"recipient_id": "u1", "custom": {"type": "handoff"}}]
    assert guard.ensure_reply(shown, "u1") == shown
    assert guard.ensure_reply([{"text": "你好"}]) == [{"text": "你好"}]


@pytest.mark.parametrize("reply", [guard.ACTION_FAILED, guard.BUSY, guard.NO_REPLY])
def test_fallback_replies_are_compliant_and_offer_a_way_forward(reply: str) -> None:
    assert check_text(reply) == []
    assert "抱歉" in reply
    assert "人工" in reply or guard.HOTLINE in reply


# --------------------------------------------------------------------------- launcher


def test_launcher_never_serves_the_api_unprotected() -> None:
    with pytest.raises(SystemExit):
        rasa_run_args(["--enable-api", "--port", "5005"], env={})
    args = rasa_run_args(["--enable-api"], env={"RASA_AUTH_TOKEN": "abc"})
    assert args[-2:] == ["--auth-token", "abc"]
    jwt = rasa_run_args(["--enable-api"], env={"RASA_JWT_SECRET": "k", "RASA_JWT_METHOD": "HS512"})
    assert jwt[-4:] == ["--jwt-secret", "k", "--jwt-method", "HS512"]
    explicit = rasa_run_args(["--enable-api", "--auth-token", "x"], env={"RASA_AUTH_TOKEN": "other"})
    assert explicit == ["--enable-api", "--auth-token", "x"]
    assert rasa_run_args(["--port", "5005"], env={}) == ["--port", "5005"]  # no API: nothing to protect


# --------------------------------------------------------------------------- purge


def _tracker_db(path: Path, rows: list) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                          "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                          "action_name VARCHAR(255), data TEXT)"))
        for sender, kind, ts in rows:
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :k, :t, '{}')"),
                         {"s": sender, "k": kind, "t": ts})
    engine.dispose()
    return url


def test_purge_deletes_only_what_is_past_retention(tmp_path: Path) -> None:
    now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    day = 86400.0
    t_now = now.timestamp()
    tracker_url = _tracker_db(tmp_path / "tracker.db", [
        ("old", "session_started", t_now - 400 * day), ("old", "user", t_now - 400 * day + 1),
        ("old", "bot", t_now - 399 * day),
        # a customer who came back: the old session goes, the current one stays whole
        ("back", "session_started", t_now - 300 * day), ("back", "user", t_now - 300 * day),
        ("back", "session_started", t_now - 2 * day), ("back", "user", t_now - 2 * day),
        ("recent", "session_started", t_now - 10 * day), ("recent", "user", t_now - 10 * day),
    ])
    db_url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(db_url)
    init_db(engine)
    naive = now.replace(tzinfo=None)
    with Session(engine) as s:
        for i, age in enumerate((4 * 365, 2 * 365, 10)):
            ticket = Ticket(number=f"TK2027000{i}", kind="complaint", detail="x", sender_id="rest:a", status="open",
                            sla_hours=24, due_at=naive, created_at=naive - timedelta(days=age))
            s.add(ticket)
            s.flush()
            if i != 1:  # a call-back number goes with its ticket
                s.add(TicketContact(ticket_id=ticket.id, phone="13812345678", created_at=ticket.created_at))
        s.add(RiskEvent(sender_id="a", kind="urgent_need", text="", created_at=naive - timedelta(days=4 * 365)))
        s.add(RiskEvent(sender_id="a", kind="urgent_need", text="", created_at=naive - timedelta(days=200)))
        s.add(Handoff(sender_id="a", channel="rest", queue="general", summary="",
                      created_at=naive - timedelta(days=200)))
        s.add(Handoff(sender_id="b", channel="rest", queue="general", summary="", created_at=naive))
        # the output guard's audit records: kept like risk events (the tickets' retention, 1095 days here)
        for age in (4 * 365, 200):
            s.add(Interception(sender_id="a", channel="rest", rule="promise", rules="promise", decision="replaced",
                               text="", created_at=naive - timedelta(days=age)))
        s.add(VerificationAttempt(sender_id="a", result="failed", created_at=naive - timedelta(days=181)))
        s.add(SmsOutbox(phone="13800000000", text="验证码", created_at=naive - timedelta(days=181)))
        s.add(OtpCode(sender_id="a", application_id="SQ1", code_hash="h", created_at=naive - timedelta(days=3),
                      expires_at=naive - timedelta(days=3)))
        s.add(OtpCode(sender_id="a", application_id="SQ1", code_hash="h", created_at=naive,
                      expires_at=naive + timedelta(minutes=5)))
        s.add(Verification(sender_id="a", application_id="SQ1", level="basic", method="id_last4",
                           created_at=naive - timedelta(days=2), expires_at=naive - timedelta(days=2)))
        customer = Customer(name="甲", id_last4="0000", id_number_masked="x", phone="13800000000")
        s.add(customer)
        s.flush()
        # outreach: an old notice with its old attempt goes; a recent one stays; an old notice retried
        # recently stays with its recent attempt (no foreign-key failure)
        for age, attempt_age in ((200, 200), (10, 10), (200, 5)):
            notice = OutreachNotice(key=f"due_t1:SQ{age}-{attempt_age}:p1", kind="due_t1", customer_id=customer.id,
                                    subject="SQ1", due_at=naive, created_at=naive - timedelta(days=age))
            s.add(notice)
            s.flush()
            s.add(OutreachAttempt(notice_id=notice.id, at=naive - timedelta(days=attempt_age), worker="w",
                                  outcome="sent"))
        s.commit()
    exports = tmp_path / "exports"
    exports.mkdir()
    old_file, new_file = exports / "review_20261001_20261007.xlsx", exports / "review_20270520_20270527.csv"
    old_lock = exports / "ledger.lock"  # not an export: never purged
    for path in (old_file, new_file, old_lock):
        path.write_text("x")
    old_time = (now - timedelta(days=31)).timestamp()
    os.utime(old_file, (old_time, old_time))
    os.utime(old_lock, (old_time, old_time))
    os.utime(new_file, (now.timestamp(), now.timestamp()))
    retention = Retention(180, 1095, 30, 1, exports)  # default export patterns: review_*.xlsx|csv

    dry = purge(now=now, dry_run=True, retention=retention, database_url=db_url, tracker_url=tracker_url)
    assert dry.deleted["tracker_events"] == 5 and old_file.exists()

    report = purge(now=now, retention=retention, database_url=db_url, tracker_url=tracker_url)
    assert report.deleted == {
        "ticket_contacts": 1, "tickets": 1, "risk_events": 1, "compliance_interceptions": 1, "handoffs": 1,
        "verification_attempts": 1, "sms_outbox": 1, "rules_sms": 0, "otp_codes": 1, "verifications": 1,
        "outreach_attempts": 1, "outreach_notices": 1, "tracker_events": 5, "export_files": 1,
    }
    check = create_engine(tracker_url)
    with check.connect() as conn:
        left = conn.execute(text("SELECT sender_id, type_name FROM events ORDER BY id")).fetchall()
    assert [tuple(r) for r in left] == [("back", "session_started"), ("back", "user"),
                                        ("recent", "session_started"), ("recent", "user")]
    with Session(engine) as s:
        assert s.query(Ticket).count() == 2 and s.query(Handoff).count() == 1 and s.query(OtpCode).count() == 1
        assert s.query(TicketContact).count() == 1
    assert not old_file.exists() and new_file.exists() and old_lock.exists()
    # idempotent
    again = purge(now=now, retention=retention, database_url=db_url, tracker_url=tracker_url)
    assert sum(again.deleted.values()) == 0
    engine.dispose()
    check.dispose()


def test_purge_command_line_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture) -> None:
    from server.purge import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'credit.db'}")
    monkeypatch.setenv("TRACKER_STORE_URL", _tracker_db(tmp_path / "t.db", [("s", "user", time.time())]))
    monkeypatch.setenv("EXPORT_DIR", str(tmp_path / "none"))
    assert main(["--dry-run"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True and out["deleted"]["tracker_events"] == 0


def test_forget_deletes_one_conversation_only(tmp_path: Path) -> None:
    from server.purge import forget_conversation

    tracker_url = _tracker_db(tmp_path / "t.db", [("wx:a", "user", 1.0), ("wx:a", "bot", 2.0), ("wx:b", "user", 1.0)])
    db_url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(db_url)
    init_db(engine)
    with Session(engine) as s:
        s.add(Handoff(sender_id="wx:a", channel="wechat", queue="general", summary=""))
        s.add(Handoff(sender_id="wx:b", channel="wechat", queue="general", summary=""))
        s.add(Ticket(number="TK202700001", kind="complaint", detail="x", sender_id="wx:a", status="open",
                     sla_hours=24, due_at=datetime(2027, 1, 1)))
        s.commit()
    dry = forget_conversation("wx:a", dry_run=True, database_url=db_url, tracker_url=tracker_url)
    assert dry["tracker_events"] == 2
    deleted = forget_conversation("wx:a", database_url=db_url, tracker_url=tracker_url)
    assert deleted["tracker_events"] == 2 and deleted["handoffs"] == 1
    with Session(engine) as s:
        assert [h.sender_id for h in s.query(Handoff)] == ["wx:b"]
        assert s.query(Ticket).count() == 1  # complaint records keep their own retention
    engine.dispose()
