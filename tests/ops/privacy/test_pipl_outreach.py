"""PIPL export and deletion cover what outreach holds (contact points and consents, emergency contacts, notices
and their attempts) and a ticket's close and rating; a customer reached only by outreach (no conversation) is
found by phone; an older console database and an older credit database keep working.  The console workflow
test (tests/console/test_workflows.py) runs the same requests over HTTP."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from credit.catalogue.loader import load_catalogue
from credit.db.engine import get_engine, session_scope
from credit.db.loans import Customer
from credit.db.outreach import ContactPoint, EmergencyContact, OutreachAttempt, OutreachNotice
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.service import LoanService
from credit.tickets.records import close_ticket, record_satisfaction
from ops.privacy import pipl
from ops.project import Project
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine
from tests.ops.conftest import make_tracker_db

SEEDED = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
PHONE = "13800005678"  # 李娜, SQ202611180002, bound OpenID o_demo_openid_5678


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "config.yml").write_text("language: zh\n", "utf-8")
    monkeypatch.delenv("OPS_CONSOLE_DB", raising=False)
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(url)
    seed(engine, now=SEEDED, reset=True)
    # outreach has been at work: the follow-up of a closed, rated ticket and the demo reminders went out
    svc = LoanService(engine, clock=lambda: SEEDED)
    number = svc.create_ticket("wx:o_demo_openid_5678", "complaint", "放款慢", contact="registered",
                               application_id="SQ202611180002").number
    close_ticket(engine, number, "已回电 13912345678 说明原因", "主管王", SEEDED)
    OutreachEngine(engine, load_catalogue(), {"sms": SmsChannel(engine)}, lambda: SEEDED + timedelta(minutes=1)
                   ).sweep()
    record_satisfaction(engine, number, 4, "还行，电话13912345678", SEEDED + timedelta(hours=1))
    make_tracker_db(tmp_path / "tracker.db")  # no conversation is stored (the ticket's sender has none)
    yield Project.at(tmp_path), url, engine, number
    engine.dispose()


def run(project: Project, url: str, kind: str, lookup: str) -> str:
    found = pipl.find(url, lookup)
    request_id = pipl.file_request(project, kind, found, "客户来电申请", "approver1")
    return pipl.decide(project, request_id, True, "approver2", f"sqlite:///{project.root / 'tracker.db'}", url)


def customer_id(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(select(Customer.id).where(Customer.phone == PHONE)).scalar_one()


def test_outreach_rows_are_exported_masked(setup):
    project, url, engine, number = setup
    found = pipl.find(url, PHONE)
    assert found["senders"] == ["wx:o_demo_openid_5678"] and found["customers"] == [customer_id(engine)]
    result = run(project, url, "export", PHONE)
    assert "1 条通知" in result
    raw = pipl.export_path(project, 1).read_text("utf-8")
    for secret in (PHONE, "13912345678", "王强"):  # 王强: the emergency contact's name
        assert secret not in raw
    outreach = json.loads(raw)["outreach"]
    assert "o_demo_openid_5678" not in json.dumps(outreach)  # (the conversation id is the sender, as before)
    assert {(p["channel"], p["address"], p["verified"]) for p in outreach["contact_points"]} == {
        ("sms", "138****5678", True), ("phone", "138****5678", True), ("wechat", "o_de****5678", True)}
    assert all(c["state"] == "接收通知" and c["changed_at"] for c in outreach["consents"])
    [kin] = outreach["emergency_contacts"]
    assert kin["name"] == "王某" and kin["relation"] == "配偶" and kin["phone"].count("*") == 4
    [notice] = outreach["notices"]
    assert (notice["kind"], notice["name"], notice["subject"], notice["status"], notice["channel"]) == (
        "ticket_followup", "工单办结回访", number, "sent", "sms") and notice["sent_at"].startswith("2026-12-01")
    [attempt] = outreach["notice_attempts"]
    assert attempt["outcome"] == "sent" and attempt["subject"] == number and "满意" in attempt["detail"]


def test_export_by_conversation_carries_the_tickets_close_and_rating(setup):
    project, url, engine, number = setup
    run(project, url, "export", "SQ202611180002")
    [ticket] = json.loads(pipl.export_path(project, 1).read_text("utf-8"))["tickets"]
    assert ticket["number"] == number and ticket["status"] == "closed" and ticket["satisfaction"] == 4
    assert "139****5678" in ticket["resolution"] and "13912345678" not in ticket["satisfaction_comment"]


def test_a_customer_known_only_to_outreach_can_still_file_a_request(setup):
    project, url, _engine, _number = setup
    found = pipl.find(url, "13800001234")  # 张伟: contact points and an emergency contact, no conversation
    assert found["senders"] == [] and len(found["customers"]) == 1
    assert "联系方式 2 个、紧急联系人 1 个、通知 0 条" in run(project, url, "delete", "13800001234")  # no WeChat
    with session_scope(_engine) as s:
        assert s.execute(select(func.count(ContactPoint.id)).where(ContactPoint.address == "13800001234")
                         ).scalar_one() == 0


def test_deletion_removes_the_customers_outreach_rows_and_nobody_elses(setup):
    project, url, engine, _number = setup
    me = customer_id(engine)

    def count(model, mine: bool) -> int:
        column = model.customer_id
        with session_scope(engine) as s:
            return s.execute(select(func.count()).select_from(model).where(column == me if mine else column != me)
                             ).scalar_one()

    others = {model: count(model, False) for model in (ContactPoint, EmergencyContact, OutreachNotice)}
    assert all(others.values()) and count(ContactPoint, True) == 3
    with session_scope(engine) as s:
        others_attempts = s.execute(select(func.count(OutreachAttempt.id)).join(OutreachNotice).where(
            OutreachNotice.customer_id != me)).scalar_one()
    result = run(project, url, "delete", PHONE)
    assert "联系方式 3 个、紧急联系人 1 个、通知 1 条（发送记录 1 条）已删除" in result
    for model in (ContactPoint, EmergencyContact, OutreachNotice):
        assert count(model, True) == 0 and count(model, False) == others[model]
    with session_scope(engine) as s:
        assert s.execute(select(func.count(OutreachAttempt.id))).scalar_one() == others_attempts
        assert s.execute(select(Customer.id).where(Customer.id == me)).scalar_one() == me  # the contract stays


def test_an_older_console_database_gains_the_customers_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "config.yml").write_text("language: zh\n", "utf-8")
    db = tmp_path / "console.db"
    monkeypatch.setenv("OPS_CONSOLE_DB", str(db))
    with sqlite3.connect(db) as conn:  # pipl_requests as it was before outreach rows were covered
        conn.execute("CREATE TABLE pipl_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
                     "lookup TEXT NOT NULL, senders TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', "
                     "requested_by TEXT NOT NULL, requested_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending', "
                     "decided_by TEXT NOT NULL DEFAULT '', decided_at REAL, result TEXT NOT NULL DEFAULT '')")
        conn.execute("INSERT INTO pipl_requests (kind, lookup, senders, requested_by, requested_at) "
                     "VALUES ('export', '139****5678', '[\"wx:c3\"]', 'a', 0)")
    [old] = pipl.requests(Project.at(tmp_path))
    assert old.sender_list == ["wx:c3"] and old.customer_list == []
    pipl.requests(Project.at(tmp_path))  # a second connection: the column is there, nothing to add


def test_an_older_credit_database_without_outreach_tables_is_still_searched(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = get_engine(url)
    seed(engine, now=SEEDED, reset=True)
    with session_scope(engine) as s:
        for table in ("outreach_attempts", "outreach_notices", "contact_points"):
            s.execute(text(f"DROP TABLE {table}"))
    engine.dispose()
    found = pipl.find(url, PHONE)
    assert found["applications"] and found["customers"]
