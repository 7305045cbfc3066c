"""Personal-information requests (PIPL): find a customer's data, then export or delete it.

1. Look-up by application number (`SQ` + 12 digits) or by the customer's verified mobile number:
   the credit database links them to conversation ids (verifications, verification attempts,
   tickets, OTP codes) and to the customer records outreach keys its rows by.
2. A request (export or delete, with the reason) is filed by one account and carried out only
   when a *different* approver approves it. Every step is in the audit log.
3. Export writes var/ops/pipl/request-<id>.json (:mod:`ops.privacy.bundle`, all masked): masked transcripts
   of those conversations, the customer's profile, tickets (with how they were closed and the customer's
   rating), handoffs, risk events, identity checks, every SMS in the outbox to the customer's numbers, and
   what outreach holds: contact points with their consent (subscribed or 退订), emergency contacts,
   notices and every delivery attempt.
4. Delete removes the conversations from the tracker store and the per-conversation rows of the
   credit database (handoffs, risk events, verifications, attempts, failure counters, OTP codes) and
   the SMS outbox's texts to the customer's numbers; tickets are kept for the complaint record but their
   detail, contact, call-back number and the customer's comment are cleared. Outreach rows of the customer
   go: contact points, emergency contacts, notices and their attempts (outreach then has no way to reach
   them; a fact still true, e.g. an instalment due, plans a notice again that is suppressed for want of a
   contact). The customer record, loan contracts and repayment records stay (legal retention duty), as the
   privacy notice says; docs/privacy.md lists each exception with its reason and period.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from ops.project import OpsError, Project
from ops.statedb import connect
from ops.text import mask_text

KINDS = {"export": "导出", "delete": "删除"}
STATES = {"pending": "待审批", "done": "已完成", "rejected": "已驳回", "failed": "执行失败"}
_APP = re.compile(r"SQ\d{12}")
_PHONE = re.compile(r"1[3-9]\d{9}")


@dataclass
class Request:
    id: int
    kind: str
    lookup: str  # masked
    senders: str  # JSON list
    reason: str
    requested_by: str
    requested_at: float
    state: str
    decided_by: str
    decided_at: Optional[float]
    result: str
    customers: str = "[]"  # JSON list of credit-database customer ids (outreach rows are keyed by them)

    @property
    def sender_list(self) -> List[str]:
        return list(json.loads(self.senders or "[]"))

    @property
    def customer_list(self) -> List[int]:
        return [int(c) for c in json.loads(self.customers or "[]")]

    @property
    def when(self) -> str:
        return dt.datetime.fromtimestamp(self.requested_at).strftime("%Y-%m-%d %H:%M")


def normalise_lookup(value: str) -> tuple[str, str]:
    """("application"|"phone", normalised value) or OpsError."""
    raw = re.sub(r"[\s\-]", "", (value or "")).upper()
    raw = raw[3:] if raw.startswith("+86") else raw
    if _APP.fullmatch(raw):
        return "application", raw
    if _PHONE.fullmatch(raw):
        return "phone", raw
    raise OpsError("请输入申请编号（SQ 加 12 位数字）或 11 位手机号。")


def find(credit_url: str, value: str) -> Dict[str, Any]:
    """Conversation ids and applications belonging to the customer (nothing unmasked is returned)."""
    from credit.db.engine import get_engine, session_scope
    from credit.db.identity import OtpCode, Verification, VerificationAttempt
    from credit.db.loans import Application, Customer
    from credit.db.outreach import ContactPoint
    from credit.db.tickets import Ticket

    kind, key = normalise_lookup(value)
    engine = get_engine(credit_url)
    try:
        with session_scope(engine) as session:
            if kind == "application":
                apps = session.query(Application).filter(Application.application_id == key).all()
            else:
                apps = (session.query(Application).join(Customer).filter(Customer.phone == key).all())
            ids = [a.application_id for a in apps] or ([key] if kind == "application" else [])
            senders: set = set()
            for model in (Verification, VerificationAttempt, OtpCode, Ticket):
                for row in session.query(model).filter(model.application_id.in_(ids)):
                    senders.add(row.sender_id)
            applications = [{"application_id": a.application_id, "product": a.product, "stage": a.stage,
                             "customer": (a.customer.name[:1] + "某") if a.customer else ""}
                            for a in apps]
            customers = {a.customer_id for a in apps}
            if kind == "phone":  # registered with that number, or reached on it
                customers |= {c for (c,) in session.query(Customer.id).filter(Customer.phone == key)}
                if _has_table(session, "contact_points"):
                    customers |= {c for (c,) in session.query(ContactPoint.customer_id)
                                  .filter(ContactPoint.address == key)}
    finally:
        engine.dispose()
    return {"kind": kind, "lookup": mask_text(key), "applications": applications, "senders": sorted(senders),
            "customers": sorted(customers)}


def _has_table(session: Any, name: str) -> bool:
    """A credit database from before outreach has no outreach tables (nothing of the customer in them)."""
    import sqlalchemy as sa

    return sa.inspect(session.connection()).has_table(name)  # this transaction's connection (SQLite: one writer)


def file_request(project: Project, kind: str, found: Dict[str, Any], reason: str, by: str) -> int:
    if kind not in KINDS:
        raise OpsError("请求类型只能是导出或删除。")
    if not reason.strip():
        raise OpsError("请填写请求依据（例如客户来电申请的工单号）。")
    if not found.get("senders") and not found.get("applications") and not found.get("customers"):
        raise OpsError("没有找到这位客户的任何数据，无需申请。")
    conn = connect(project)
    try:
        cur = conn.execute("INSERT INTO pipl_requests (kind, lookup, senders, reason, requested_by, requested_at, "
                           "customers) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (kind, found["lookup"], json.dumps(found["senders"]), mask_text(reason.strip())[:300], by,
                            time.time(), json.dumps(found.get("customers", []))))
        return int(cur.lastrowid or 0)
    finally:
        conn.close()


def requests(project: Project) -> List[Request]:
    conn = connect(project)
    try:
        return [Request(**dict(r)) for r in conn.execute("SELECT * FROM pipl_requests ORDER BY id DESC LIMIT 200")]
    finally:
        conn.close()


def get(project: Project, request_id: int) -> Request:
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM pipl_requests WHERE id = ?", (request_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise OpsError(f"没有编号为 {request_id} 的个人信息申请。")
    return Request(**dict(row))


def _set(project: Project, request_id: int, state: str, by: str, result: str) -> None:
    conn = connect(project)
    try:
        conn.execute("UPDATE pipl_requests SET state = ?, decided_by = ?, decided_at = ?, result = ? WHERE id = ?",
                     (state, by, time.time(), result, request_id))
    finally:
        conn.close()


def decide(project: Project, request_id: int, approve: bool, by: str, tracker_url: str, credit_url: str) -> str:
    request = get(project, request_id)
    if request.state != "pending":
        raise OpsError(f"这条申请的状态是「{STATES.get(request.state, request.state)}」，不能再次处理。")
    if request.requested_by == by:
        raise OpsError("四眼原则：申请人不能批准自己的申请，请由另一位审批人处理。")
    if not approve:
        _set(project, request_id, "rejected", by, "")
        return "已驳回。"
    try:
        result = (export(project, request, tracker_url, credit_url) if request.kind == "export"
                  else delete(request, tracker_url, credit_url))
    except Exception as e:  # keep the request, show why
        _set(project, request_id, "failed", by, f"{type(e).__name__}: {e}"[:300])
        raise OpsError(f"执行失败，数据没有变化或只部分变化，请查看日志：{type(e).__name__}") from e
    _set(project, request_id, "done", by, result)
    return result


def export_path(project: Project, request_id: int) -> Path:
    return project.root / "var" / "ops" / "pipl" / f"request-{request_id}.json"


def export(project: Project, request: Request, tracker_url: str, credit_url: str) -> str:
    from credit.db.engine import get_engine, init_db, session_scope
    from ops.privacy import bundle
    from ops.privacy.conversations import transcript

    senders, customers = request.sender_list, request.customer_list
    out: Dict[str, Any] = {"request": request.id, "lookup": request.lookup, "conversations": {}}
    for sender in senders:
        out["conversations"][sender] = [line.__dict__ for line in transcript(tracker_url, sender)]
    engine = get_engine(credit_url)
    try:
        init_db(engine)  # a database from before outreach and ticket closing: their tables, empty
        with session_scope(engine) as session:
            out["customer"] = bundle.profile(session, customers)
            out.update(bundle.tickets(session, senders))
            out["identity_checks"] = bundle.identity_checks(session, senders)
            out["sms"] = bundle.sms(session, bundle.customer_phones(session, customers, senders))
            out["outreach"] = bundle.outreach(session, customers)
    finally:
        engine.dispose()
    path = export_path(project, request.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    return (f"已导出 {len(senders)} 段对话、{len(out['tickets'])} 张工单、"
            f"{len(out['outreach']['notices'])} 条通知、{len(out['sms'])} 条短信（已脱敏）。")


def delete(request: Request, tracker_url: str, credit_url: str) -> str:
    import sqlalchemy as sa

    from credit.db.engine import get_engine, init_db, session_scope
    from credit.db.identity import OtpCode, Verification, VerificationAttempt, VerificationCounter
    from credit.db.outreach import ContactPoint, EmergencyContact, OutreachAttempt, OutreachNotice
    from credit.db.sms import SmsOutbox
    from credit.db.tickets import Handoff, RiskEvent, Ticket, TicketContact, TicketOutcome
    from ops.privacy.bundle import customer_phones
    from ops.retrain.export import _engine, _events_table

    senders, customers = request.sender_list, request.customer_list
    events = _events_table()
    removed = 0
    if senders:
        with _engine(tracker_url).begin() as conn:
            removed = conn.execute(sa.delete(events).where(events.c.sender_id.in_(senders))).rowcount or 0
    engine = get_engine(credit_url)
    try:
        init_db(engine)
        with session_scope(engine) as session:
            phones = customer_phones(session, customers, senders)  # before the contacts that name them go
            texts = session.query(SmsOutbox).filter(SmsOutbox.phone.in_(sorted(phones))).delete(
                synchronize_session=False)
            for model in (Handoff, RiskEvent, Verification, VerificationAttempt, OtpCode):
                session.query(model).filter(model.sender_id.in_(senders)).delete(synchronize_session=False)
            session.query(VerificationCounter).filter(VerificationCounter.scope == "sender",
                                                      VerificationCounter.key.in_(senders)).delete(
                synchronize_session=False)
            session.query(Ticket).filter(Ticket.sender_id.in_(senders)).update(
                {Ticket.detail: "（已按个人信息删除申请清除）", Ticket.contact: None}, synchronize_session=False)
            their_tickets = session.query(Ticket.id).filter(Ticket.sender_id.in_(senders))
            session.query(TicketContact).filter(TicketContact.ticket_id.in_(their_tickets.scalar_subquery())).delete(
                synchronize_session=False)
            session.query(TicketOutcome).filter(TicketOutcome.ticket_id.in_(their_tickets.scalar_subquery())).update(
                {TicketOutcome.satisfaction_comment: None}, synchronize_session=False)
            # outreach: attempts, then notices (they name contact points), then the contacts themselves
            theirs = session.query(OutreachNotice.id).filter(OutreachNotice.customer_id.in_(customers))
            gone = {"attempts": session.query(OutreachAttempt).filter(OutreachAttempt.notice_id.in_(
                theirs.scalar_subquery())).delete(synchronize_session=False)}
            for name, model in (("notices", OutreachNotice), ("contact_points", ContactPoint),
                                ("emergency_contacts", EmergencyContact)):
                gone[name] = session.query(model).filter(model.customer_id.in_(customers)).delete(
                    synchronize_session=False)
    finally:
        engine.dispose()
    return (f"已删除 {len(senders)} 段对话（{removed} 条记录）及相关核验、转人工、风险记录；工单内容已清除；"
            f"联系方式 {gone['contact_points']} 个、紧急联系人 {gone['emergency_contacts']} 个、"
            f"通知 {gone['notices']} 条（发送记录 {gone['attempts']} 条）已删除；短信 {texts} 条已删除。")
