"""Personal-information requests (PIPL): find a customer's data, then export or delete it.

1. Look-up by application number (`SQ` + 12 digits) or by the customer's verified mobile number:
   the credit database links them to conversation ids (verifications, verification attempts,
   tickets, OTP codes).
2. A request (export or delete, with the reason) is filed by one account and carried out only
   when a *different* approver approves it. Every step is in the audit log.
3. Export writes var/ops/pipl/<id>.json: the applications (customer name masked), tickets,
   handoffs, risk events and masked transcripts of those conversations.
4. Delete removes the conversations from the tracker store and the per-conversation rows of the
   credit database (handoffs, risk events, verifications, attempts, OTP codes); tickets are kept
   for the complaint record but their detail, contact and call-back number are cleared. Loan contracts and
   repayment records stay (legal retention duty), as the privacy notice says.
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

    @property
    def sender_list(self) -> List[str]:
        return list(json.loads(self.senders or "[]"))

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
    from credit.db import (
        Application,
        Customer,
        OtpCode,
        Ticket,
        Verification,
        VerificationAttempt,
        get_engine,
        session_scope,
    )

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
    finally:
        engine.dispose()
    return {"kind": kind, "lookup": mask_text(key), "applications": applications, "senders": sorted(senders)}


def file_request(project: Project, kind: str, found: Dict[str, Any], reason: str, by: str) -> int:
    if kind not in KINDS:
        raise OpsError("请求类型只能是导出或删除。")
    if not reason.strip():
        raise OpsError("请填写请求依据（例如客户来电申请的工单号）。")
    if not found.get("senders") and not found.get("applications"):
        raise OpsError("没有找到这位客户的任何数据，无需申请。")
    conn = connect(project)
    try:
        cur = conn.execute("INSERT INTO pipl_requests (kind, lookup, senders, reason, requested_by, requested_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (kind, found["lookup"], json.dumps(found["senders"]),
                                                         mask_text(reason.strip())[:300], by, time.time()))
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
    from credit.db import Handoff, RiskEvent, Ticket, TicketContact, get_engine, session_scope
    from ops.conversations import transcript

    senders = request.sender_list
    bundle: Dict[str, Any] = {"request": request.id, "lookup": request.lookup, "conversations": {}, "tickets": [],
                              "handoffs": [], "risk_events": []}
    for sender in senders:
        bundle["conversations"][sender] = [line.__dict__ for line in transcript(tracker_url, sender)]
    engine = get_engine(credit_url)
    try:
        with session_scope(engine) as session:
            call_back = dict(session.query(TicketContact.ticket_id, TicketContact.phone))
            for t in session.query(Ticket).filter(Ticket.sender_id.in_(senders)):
                bundle["tickets"].append({"number": t.number, "kind": t.kind, "status": t.status,
                                          "detail": mask_text(t.detail or ""), "created_at": str(t.created_at),
                                          "call_back_number": mask_text(call_back.get(t.id, ""))})
            for h in session.query(Handoff).filter(Handoff.sender_id.in_(senders)):
                bundle["handoffs"].append({"queue": h.queue, "summary": mask_text(h.summary or ""),
                                           "created_at": str(h.created_at)})
            for r in session.query(RiskEvent).filter(RiskEvent.sender_id.in_(senders)):
                bundle["risk_events"].append({"kind": r.kind, "text": mask_text(r.text or ""),
                                              "created_at": str(r.created_at)})
    finally:
        engine.dispose()
    path = export_path(project, request.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, ensure_ascii=False, indent=2), encoding="utf-8")
    return f"已导出 {len(senders)} 段对话、{len(bundle['tickets'])} 张工单（已脱敏）。"


def delete(request: Request, tracker_url: str, credit_url: str) -> str:
    import sqlalchemy as sa

    from credit.db import (
        Handoff,
        OtpCode,
        RiskEvent,
        Ticket,
        TicketContact,
        Verification,
        VerificationAttempt,
        get_engine,
        session_scope,
    )
    from ops.export import _engine, _events_table

    senders = request.sender_list
    events = _events_table()
    removed = 0
    if senders:
        with _engine(tracker_url).begin() as conn:
            removed = conn.execute(sa.delete(events).where(events.c.sender_id.in_(senders))).rowcount or 0
    engine = get_engine(credit_url)
    try:
        with session_scope(engine) as session:
            for model in (Handoff, RiskEvent, Verification, VerificationAttempt, OtpCode):
                session.query(model).filter(model.sender_id.in_(senders)).delete(synchronize_session=False)
            session.query(Ticket).filter(Ticket.sender_id.in_(senders)).update(
                {Ticket.detail: "（已按个人信息删除申请清除）", Ticket.contact: None}, synchronize_session=False)
            their_tickets = session.query(Ticket.id).filter(Ticket.sender_id.in_(senders))
            session.query(TicketContact).filter(TicketContact.ticket_id.in_(their_tickets.scalar_subquery())).delete(
                synchronize_session=False)
    finally:
        engine.dispose()
    return f"已删除 {len(senders)} 段对话（{removed} 条记录）及相关核验、转人工、风险记录；工单内容已清除。"
