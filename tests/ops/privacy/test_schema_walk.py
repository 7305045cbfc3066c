"""Every column that can hold a customer's personal data is covered by the PIPL export and deletion, or is a
legal-retention (or anonymised) exception that docs/privacy.md names with its reason and period.

The schema is walked, not listed by hand: every table of the credit database (``credit.db`` metadata, every
table module registered), the Rasa tracker store (the ``events`` table as Rasa 3.6's own SQLTrackerStore
creates it) and the ops console database (as ``ops.statedb`` creates it).  A column is a candidate when it
is text that could hold a mobile number, an ID, an OpenID or free text (by type and name); the
classification table below must then say what it is — a column added later fails here until someone does.
Each "pipl" column is then proven covered with real rows: a customer is seeded with a distinct value in
every one of them, the export must show each (masked where it is masked), and after the deletion none of
those values is left in its column.
"""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from credit.db.base import Base
from credit.db.engine import get_engine, init_db, register_tables, session_scope
from harness.paths import ROOT
from ops.privacy import pipl
from ops.privacy.bundle import masked_address
from ops.project import Project
from ops.statedb import connect, db_path
from tests.ops.conftest import Conversation

PIPL, RETENTION, ANONYMISED, STAFF, NONE = "pipl", "legal retention", "anonymised", "staff", "none"
# (database, table, column) -> (kind, why).  PIPL: exported and deleted (proven below); RETENTION and
# ANONYMISED: in docs/privacy.md §6 with reason and period; STAFF: the ops team's own data, not a customer's;
# NONE: cannot hold personal data.
CLASSIFIED: Dict[Tuple[str, str, str], Tuple[str, str]] = {
    **{("credit", "customers", c): (RETENTION, "identity record of the contract") for c in
       ("name", "id_last4", "id_number_masked", "phone", "wechat_openid")},
    ("credit", "applications", "expected_next_step"): (NONE, "the lender's words on the next step"),
    ("credit", "tickets", "detail"): (PIPL, ""), ("credit", "tickets", "contact"): (PIPL, ""),
    ("credit", "tickets", "sender_id"): (RETENTION, "whose complaint it was"),
    ("credit", "ticket_contacts", "phone"): (PIPL, ""),
    ("credit", "handoffs", "sender_id"): (PIPL, ""), ("credit", "handoffs", "summary"): (PIPL, ""),
    ("credit", "handoffs", "queue"): (NONE, "queue name"),
    ("credit", "risk_events", "sender_id"): (PIPL, ""), ("credit", "risk_events", "text"): (PIPL, ""),
    ("credit", "risk_events", "kind"): (NONE, "event kind"),
    ("credit", "ticket_outcomes", "resolution"): (RETENTION, "how the complaint was handled"),
    ("credit", "ticket_outcomes", "satisfaction_comment"): (PIPL, ""),
    ("credit", "ticket_outcomes", "closed_by"): (STAFF, "the agent's account"),
    ("credit", "verification_counters", "key"): (PIPL, ""),
    ("credit", "verification_attempts", "sender_id"): (PIPL, ""),
    ("credit", "verifications", "sender_id"): (PIPL, ""),
    ("credit", "otp_codes", "sender_id"): (PIPL, ""),
    ("credit", "otp_codes", "code_hash"): (NONE, "salted PBKDF2 of an expired code"),
    ("credit", "contact_points", "address"): (PIPL, ""),
    ("credit", "emergency_contacts", "name"): (PIPL, ""), ("credit", "emergency_contacts", "phone"): (PIPL, ""),
    ("credit", "repayment_records", "reason"): (NONE, "the bank's reason code, e.g. 余额不足"),
    ("credit", "outreach_notices", "fields"): (PIPL, ""),
    ("credit", "outreach_notices", "key"): (NONE, "kind:application:occurrence"),
    ("credit", "outreach_notices", "kind"): (NONE, "notice kind"),
    ("credit", "outreach_notices", "subject"): (NONE, "application or ticket number"),
    ("credit", "outreach_notices", "claimed_by"): (NONE, "worker name"),
    ("credit", "outreach_notices", "vendor_ref"): (NONE, "the vendor's message id"),
    ("credit", "outreach_notices", "reason"): (NONE, "the engine's reason"),
    ("credit", "outreach_attempts", "detail"): (PIPL, ""),
    ("credit", "outreach_attempts", "worker"): (NONE, "worker name"),
    ("credit", "sms_outbox", "phone"): (PIPL, ""), ("credit", "sms_outbox", "text"): (PIPL, ""),
    ("credit", "rules_sms", "sender_id"): (RETENTION, "proof of the consented rules SMS"),
    ("credit", "rules_sms", "phone_masked"): (RETENTION, "proof of the consented rules SMS"),
    ("credit", "rules_sms", "reference"): (NONE, "the gateway's message id"),
    ("credit", "wechat_unionids", "unionid"): (RETENTION, "the contract holder's bound WeChat account"),
    ("credit", "wecom_kf_customers", "external_userid"): (RETENTION, "the 微信客服 id's link to the unionid"),
    ("credit", "wecom_kf_customers", "unionid"): (RETENTION, "the 微信客服 id's link to the unionid"),
    ("credit", "compliance_interceptions", "sender_id"): (RETENTION, "proof a red-line reply was stopped"),
    ("credit", "compliance_interceptions", "text"): (RETENTION, "the stopped reply, masked"),
    **{("credit", "compliance_interceptions", c): (NONE, "rule, decision, Rasa names, model id") for c in
       ("action", "intent", "model_id", "response", "rule", "rules")},
    ("tracker", "events", "sender_id"): (PIPL, ""), ("tracker", "events", "data"): (PIPL, ""),
    **{("tracker", "events", c): (NONE, "Rasa's event, intent or action name") for c in
       ("type_name", "intent_name", "action_name")},
    **{("ops", "users", c): (STAFF, "console account") for c in
       ("username", "display", "password_hash", "roles", "created_by")},
    **{("ops", "sessions", c): (STAFF, "console session") for c in ("token_hash", "username", "csrf")},
    **{("ops", "cli_tokens", c): (STAFF, "command-line login or token") for c in
       ("token_hash", "username", "kind", "label", "os_user", "host", "created_by", "revoked_by")},
    ("ops", "audit", "target"): (RETENTION, "whose data was viewed"),
    ("ops", "audit", "detail"): (RETENTION, "what was done"),
    **{("ops", "audit", c): (STAFF, "who, from where") for c in ("who", "action", "ip", "os_user", "host", "via")},
    ("ops", "inbox_decisions", "text"): (ANONYMISED, "masked, no conversation id"),
    ("ops", "inbox_decisions", "note"): (ANONYMISED, "the annotator's note"),
    ("ops", "inbox_decisions", "by"): (STAFF, "annotator"),
    **{("ops", "inbox_decisions", c): (NONE, "hash or label") for c in ("key", "decision", "intent")},
    **{("ops", "jobs", c): (NONE, "job kind, candidate path, state, log path") for c in
       ("kind", "args", "state", "log")},
    ("ops", "jobs", "by"): (STAFF, "who started it"),
    **{("ops", "pipl_requests", c): (RETENTION, "proof the request was handled") for c in
       ("lookup", "senders", "customers", "reason", "result")},
    **{("ops", "pipl_requests", c): (STAFF, "who filed, who decided") for c in ("requested_by", "decided_by")},
    **{("ops", "pipl_requests", c): (NONE, "kind or state") for c in ("kind", "state")},
}
_NAMES = re.compile(r"phone|mobile|openid|id_number|id_last4|name|address|contact|sender|text|detail|summary|"
                    r"comment|resolution|lookup|note|data|fields|key|who|target|host|user|by$")


def _candidate(name: str, type_name: str, length: Any) -> bool:
    """Text that could hold a number, an ID, an OpenID or free text: long or unbounded, or named like it."""
    if not re.match(r"(?i)(var)?char|text|string|clob", type_name):
        return False
    return length is None or int(length) > 32 or bool(_NAMES.search(name))


def _credit_columns() -> Iterator[Tuple[str, str, str, str, Any]]:
    register_tables()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            yield "credit", table.name, column.name, type(column.type).__name__, getattr(column.type, "length", None)


def _reflected(db: str, engine: sa.engine.Engine) -> Iterator[Tuple[str, str, str, str, Any]]:
    inspector = sa.inspect(engine)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            kind = column["type"]
            yield db, table, column["name"], str(kind).split("(")[0], getattr(kind, "length", None)


@pytest.fixture
def databases(project: Project, tmp_path: Path) -> Dict[str, str]:
    from rasa.core.tracker_store import SQLTrackerStore  # Rasa's own schema of the tracker store

    SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    credit = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(credit)
    init_db(engine)
    engine.dispose()
    connect(project).close()  # the console database, every table and added column
    return {"credit": credit, "tracker": f"sqlite:///{tmp_path / 'tracker.db'}",
            "ops": f"sqlite:///{db_path(project)}"}


def _walk(databases: Dict[str, str]) -> List[Tuple[str, str, str]]:
    found = [c for c in _credit_columns() if _candidate(c[2], c[3], c[4])]
    for db in ("tracker", "ops"):
        engine = sa.create_engine(databases[db])
        try:
            found += [c for c in _reflected(db, engine) if c[1] != "sqlite_sequence" and _candidate(c[2], c[3], c[4])]
        finally:
            engine.dispose()
    return [(db, table, column) for db, table, column, _, _ in found]


def _documented() -> Dict[str, Tuple[str, str, str, str]]:
    """docs/privacy.md §6: `table.column` -> (database, kind, reason, period)."""
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    section = text.split("## 6.", 1)[1].split("\n## ", 1)[0]
    rows: Dict[str, Tuple[str, str, str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2], cells[3], cells[4])
    return rows


def test_every_personal_column_is_classified_and_every_exception_documented(databases: Dict[str, str]) -> None:
    found = _walk(databases)
    assert ("credit", "sms_outbox", "text") in found and ("tracker", "events", "data") in found  # the walk works
    assert ("ops", "pipl_requests", "senders") in found and ("credit", "customers", "phone") in found
    unclassified = sorted(set(found) - set(CLASSIFIED))
    assert not unclassified, f"columns that may hold personal data, not classified: {unclassified}"
    stale = sorted(set(CLASSIFIED) - set(found))
    assert not stale, f"classified columns the schema no longer has: {stale}"
    documented = _documented()
    for (db, table, column), (kind, _) in CLASSIFIED.items():
        if kind in (RETENTION, ANONYMISED):
            entry = documented.get(f"{table}.{column}")
            assert entry, f"{db}.{table}.{column} is kept after a deletion but not in docs/privacy.md §6"
            assert entry[0] == db and entry[1] == kind and len(entry[2]) > 10 and entry[3], (table, column, entry)
    assert set(documented) == {f"{t}.{c}" for (_, t, c), (k, _) in CLASSIFIED.items() if k in (RETENTION, ANONYMISED)}


# --------------------------------------------------------------------------- the "pipl" columns, with real rows

S = "wx:o_walk_openid_7777777"  # the customer's WeChat conversation
OPENID = S[3:]
PHONE, CALL_BACK, KIN = "13700007777", "13700008888", "13700009999"
APP = "SQ202612010077"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
# (table, column) -> (value seeded, where the export must show it: a function of the bundle -> text searched, text)
Probe = Tuple[str, Callable[[Dict[str, Any]], Any], str]
PROBES: Dict[Tuple[str, str], Probe] = {
    ("tickets", "detail"): ("工单描述甲乙", lambda b: b["tickets"], "工单描述甲乙"),
    ("tickets", "contact"): ("联系方式丙丁", lambda b: b["tickets"], "联系方式丙丁"),
    ("ticket_contacts", "phone"): (CALL_BACK, lambda b: b["tickets"], "137****8888"),
    ("handoffs", "sender_id"): (S, lambda b: b["handoffs"], S),
    ("handoffs", "summary"): ("转人工摘要戊己", lambda b: b["handoffs"], "转人工摘要戊己"),
    ("risk_events", "sender_id"): (S, lambda b: b["risk_events"], S),
    ("risk_events", "text"): ("风险描述庚辛", lambda b: b["risk_events"], "风险描述庚辛"),
    ("ticket_outcomes", "satisfaction_comment"): ("评价内容壬癸", lambda b: b["tickets"], "评价内容壬癸"),
    ("verification_counters", "key"): (S, lambda b: b["identity_checks"]["verification_locks"], S),
    ("verification_attempts", "sender_id"): (S, lambda b: b["identity_checks"]["verification_attempts"], S),
    ("verifications", "sender_id"): (S, lambda b: b["identity_checks"]["verifications"], S),
    ("otp_codes", "sender_id"): (S, lambda b: b["identity_checks"]["sms_codes"], S),
    ("contact_points", "address"): (OPENID, lambda b: b["outreach"]["contact_points"],
                                    masked_address("wechat", OPENID)),
    ("emergency_contacts", "name"): ("孙大圣", lambda b: b["outreach"]["emergency_contacts"], "孙某"),
    ("emergency_contacts", "phone"): (KIN, lambda b: b["outreach"]["emergency_contacts"], "137****9999"),
    ("outreach_notices", "fields"): ('{"due": "12月9日"}', lambda b: b["outreach"]["notices"], "12月9日"),
    ("outreach_attempts", "detail"): ("通知内容子丑", lambda b: b["outreach"]["notice_attempts"], "通知内容子丑"),
    ("sms_outbox", "phone"): (PHONE, lambda b: b["sms"], "137****7777"),
    ("sms_outbox", "text"): ("短信正文寅卯", lambda b: b["sms"], "短信正文寅卯"),
    ("events", "sender_id"): (S, lambda b: list(b["conversations"]), S),
    ("events", "data"): ("对话内容辰巳", lambda b: b["conversations"], "对话内容辰巳"),
}


def _seed(credit: str, tracker: Path) -> None:
    from credit.db.identity import OtpCode, Verification, VerificationAttempt, VerificationCounter
    from credit.db.loans import Application, Customer
    from credit.db.outreach import ContactPoint, EmergencyContact, OutreachAttempt, OutreachNotice
    from credit.db.sms import SmsOutbox
    from credit.db.tickets import Handoff, RiskEvent, Ticket, TicketContact, TicketOutcome

    engine = get_engine(credit)
    hour = timedelta(hours=1)
    with session_scope(engine) as s:
        customer = Customer(name="钱多多", id_last4="7777", id_number_masked="110***********7777", phone=PHONE,
                            wechat_openid=OPENID)
        s.add(customer)
        s.flush()
        s.add(Application(application_id=APP, customer_id=customer.id, product="suixinjie", amount=5000, term=6,
                          stage="reviewing", submitted_at=NOW, stage_updated_at=NOW))
        ticket = Ticket(number="TK202612010077", kind="complaint", detail="工单描述甲乙", contact="联系方式丙丁",
                        sender_id=S, application_id=APP, status="closed", sla_hours=24, due_at=NOW + hour,
                        created_at=NOW)
        s.add(ticket)
        s.flush()
        s.add(TicketContact(ticket_id=ticket.id, phone=CALL_BACK, created_at=NOW))
        s.add(TicketOutcome(ticket_id=ticket.id, closed_at=NOW, closed_by="agent", resolution="已处理",
                            satisfaction=3, satisfaction_comment="评价内容壬癸"))
        s.add(Handoff(sender_id=S, channel="wechat", queue="general", summary="转人工摘要戊己", created_at=NOW))
        s.add(RiskEvent(sender_id=S, kind="urgent_need", text="风险描述庚辛", created_at=NOW))
        s.add(VerificationCounter(scope="sender", key=S, failures=2, updated_at=NOW))
        s.add(VerificationAttempt(sender_id=S, application_id=APP, result="failed", created_at=NOW))
        s.add(Verification(sender_id=S, application_id=APP, level="basic", method="id_last4", created_at=NOW,
                           expires_at=NOW + hour))
        s.add(OtpCode(sender_id=S, application_id=APP, code_hash="pbkdf2$x", created_at=NOW, expires_at=NOW + hour))
        point = ContactPoint(customer_id=customer.id, channel="wechat", address=OPENID, verified=True, changed_at=NOW)
        s.add(point)
        s.add(EmergencyContact(customer_id=customer.id, name="孙大圣", relation="朋友", phone=KIN))
        s.flush()
        notice = OutreachNotice(key=f"application_approved:{APP}", kind="application_approved",
                                customer_id=customer.id, subject=APP, due_at=NOW, status="sent", channel="wechat",
                                contact_point_id=point.id, sent_at=NOW, created_at=NOW, fields='{"due": "12月9日"}')
        s.add(notice)
        s.flush()
        s.add(OutreachAttempt(notice_id=notice.id, at=NOW, worker="w1", channel="wechat", outcome="sent",
                              detail="通知内容子丑"))
        s.add(SmsOutbox(phone=PHONE, text="短信正文寅卯", created_at=NOW))
        s.add(SmsOutbox(phone="13600001234", text="别人的短信", created_at=NOW))  # someone else's: stays
    engine.dispose()
    Conversation(tracker, S, NOW.timestamp()).user("对话内容辰巳", "greet", 0.9).bot("您好").save()


def _count(url: str, table: str, column: str, value: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :v"),
                                    {"v": f"%{value}%"}).scalar() or 0)
    finally:
        engine.dispose()


def test_every_pipl_column_is_exported_and_deleted(project: Project, databases: Dict[str, str],
                                                    tmp_path: Path) -> None:
    pipl_columns = {(t, c) for (db, t, c), (kind, _) in CLASSIFIED.items() if kind == PIPL}
    assert set(PROBES) == pipl_columns  # a probe for each, so none is taken on trust
    _seed(databases["credit"], tmp_path / "tracker.db")
    url = lambda table: databases["tracker" if table == "events" else "credit"]  # noqa: E731
    for (table, column), (value, _, _) in PROBES.items():
        assert _count(url(table), table, column, value) >= 1, (table, column)  # seeded: the test can fail
    found = pipl.find(databases["credit"], PHONE)
    assert found["senders"] == [S]
    export = pipl.decide(project, pipl.file_request(project, "export", found, "客户来电 TK1", "approver1"), True,
                         "approver2", databases["tracker"], databases["credit"])
    assert "1 条短信" in export
    raw = pipl.export_path(project, 1).read_text(encoding="utf-8")
    bundle = json.loads(raw)
    for secret in (PHONE, CALL_BACK, KIN, "孙大圣", "别人的短信"):  # (the OpenID is in the conversation id)
        assert secret not in raw, secret
    for (table, column), (_, where, shown) in PROBES.items():
        assert shown in json.dumps(where(bundle), ensure_ascii=False), (table, column, shown)
    assert bundle["customer"][0]["name"] == "钱某" and bundle["customer"][0]["phone"] == "137****7777"
    deleted = pipl.decide(project, pipl.file_request(project, "delete", found, "客户要求删除", "approver1"), True,
                          "approver2", databases["tracker"], databases["credit"])
    assert "短信 1 条已删除" in deleted
    for (table, column), (value, _, _) in PROBES.items():
        assert _count(url(table), table, column, value) == 0, (table, column, value)
    assert _count(databases["credit"], "sms_outbox", "text", "别人的短信") == 1
    assert _count(databases["credit"], "customers", "phone", PHONE) == 1  # the contract's record stays (§6)
    with sqlite3.connect(tmp_path / "credit.db") as conn:  # the complaint record stays, emptied
        assert conn.execute("SELECT detail, contact FROM tickets").fetchall() == [("（已按个人信息删除申请清除）",
                                                                                   None)]
