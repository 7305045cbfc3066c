"""Constants and helpers shared by the credit.service.LoanService tests (their fixtures are in conftest.py)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text

from credit.db.engine import session_scope
from credit.db.sms import SmsOutbox
from credit.service import LoanService

START = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing

REVIEWING = "SQ202611200001"  # last4 1234
DISBURSED = "SQ202611180002"  # last4 5678, openid o_demo_openid_5678, phone 13800005678
DECLINED = "SQ202611150003"  # last4 4321
PENDING = "SQ202611210004"  # last4 8765
REPAID = "SQ202604200005"  # last4 246X
UNKNOWN = "SQ209912310099"
LAST4 = {REVIEWING: "1234", DISBURSED: "5678", DECLINED: "4321", PENDING: "8765", REPAID: "246X"}


def outbox(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        return [(r.phone, r.text) for r in s.execute(select(SmsOutbox).order_by(SmsOutbox.id)).scalars()]


def last_code(engine) -> str:
    match = re.search(r"\d{6}", outbox(engine)[-1][1])
    assert match
    return match.group()


def make_strong(svc: LoanService, engine, sender: str, app_id: str) -> None:
    assert svc.verify_identity(sender, app_id, LAST4[app_id]).status == "ok"
    svc.send_otp(sender, app_id)
    assert svc.check_otp(sender, app_id, last_code(engine)) == "ok"


def snapshot(engine) -> dict[str, Any]:
    """Every row of the business tables, for "nothing changed" assertions."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in ("customers", "applications", "loans", "loan_installments"):
            out[table] = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).fetchall()
    return out
