"""credit.service.LoanService records against a real SQLite file, with an injectable clock: loans, tickets,
cancellation and the settlement certificate, reseeding."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from credit.calculators import build_schedule
from credit.db.engine import session_scope
from credit.db.loans import Application
from credit.errors import InvalidInput, NotFound, NotVerified
from credit.loans import due_date
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.tickets import records as tickets
from tests.unit.credit.service.service_kit import (
    DECLINED,
    DISBURSED,
    PENDING,
    REPAID,
    REVIEWING,
    START,
    last_code,
    make_strong,
)

# ----------------------------------------------------------------------- loans


def test_loan_details_require_strong(svc, engine):
    svc.verify_identity("rest:a", DISBURSED, "5678")
    with pytest.raises(NotVerified) as info:
        svc.get_loan_details("rest:a", DISBURSED)
    assert info.value.level == "strong"
    svc.send_otp("rest:a", DISBURSED)
    svc.check_otp("rest:a", DISBURSED, last_code(engine))
    view = svc.get_loan_details("rest:a", DISBURSED)
    schedule = build_schedule(Decimal("20000"), Decimal("0.12"), 12, "equal_installment")
    disbursed_on = (START - timedelta(days=5)).astimezone(CHINA_TZ).date()
    assert view.principal == Decimal("20000.00")
    assert view.annual_rate == Decimal("0.120000")
    assert (view.term_months, view.method, view.method_label) == (12, "equal_installment", "等额本息")
    assert view.paid_periods == 0 and view.outstanding_principal == Decimal("20000.00")
    assert view.next_due_date == due_date(disbursed_on, 1)
    assert view.next_due_amount == schedule.installments[0].payment == Decimal("1776.98")
    assert len(view.remaining_schedule) == 12
    assert [i.payment for i in view.remaining_schedule] == [i.payment for i in schedule.installments]
    assert view.remaining_schedule[-1].remaining == Decimal("0.00")


def test_loan_details_of_an_undisbursed_application(svc, engine):
    make_strong(svc, engine, "rest:a", REVIEWING)
    with pytest.raises(NotFound):
        svc.get_loan_details("rest:a", REVIEWING)


def test_due_dates_follow_the_28th_rule():
    from datetime import date

    assert due_date(date(2026, 11, 16), 1) == date(2026, 12, 16)
    assert due_date(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert due_date(date(2026, 1, 30), 3) == date(2026, 4, 28)
    assert due_date(date(2026, 12, 5), 2) == date(2027, 2, 5)


# --------------------------------------------------------------------- tickets


def test_ticket_numbers_are_unique_and_slas_come_from_the_catalogue(svc):
    expected = {"complaint": 24, "negotiation": 48, "settlement_certificate": 72,
                "callback": 2, "cancel_request": 24, "account_request": 24}
    numbers = set()
    for kind, hours in expected.items():
        for _ in range(5):
            ticket = svc.create_ticket("rest:a", kind, "问题描述")
            assert re.fullmatch(r"TK20261121\d{4}", ticket.number)
            assert ticket.sla_hours == hours
            assert ticket.due_at == START + timedelta(hours=hours)
            assert ticket.status == "open"
            numbers.add(ticket.number)
    assert len(numbers) == 30


def test_ticket_number_date_is_china_date(svc, clock):
    clock.now = datetime(2026, 11, 21, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 22nd in Beijing
    assert svc.create_ticket("rest:a", "callback", "").number.startswith("TK20261122")


def test_ticket_number_collision_is_retried(svc, monkeypatch):
    draws = iter([7, 7, 8])
    monkeypatch.setattr(tickets.secrets, "randbelow", lambda n: next(draws))
    assert svc.create_ticket("rest:a", "complaint", "a").number == "TK202611210007"
    assert svc.create_ticket("rest:a", "complaint", "b").number == "TK202611210008"


def test_tickets_are_private_to_their_sender(svc):
    mine = svc.create_ticket("rest:a", "complaint", "催收电话太多", category="collection",
                             application_id="sq202611180002")
    other = svc.create_ticket("rest:b", "callback", "请回电")
    assert mine.category == "collection" and mine.application_id == DISBURSED
    assert [t.number for t in svc.list_tickets("rest:a")] == [mine.number]
    assert svc.ticket_status("rest:a", mine.number.lower()) == mine
    assert svc.ticket_status("rest:a", other.number) is None
    assert svc.list_tickets("rest:nobody") == []


def test_ticket_validation(svc):
    with pytest.raises(InvalidInput):
        svc.create_ticket("rest:a", "bribe", "x")
    with pytest.raises(InvalidInput):
        svc.create_ticket("rest:a", "complaint", "x", application_id="SQ1")
    with pytest.raises(InvalidInput):
        svc.create_ticket("rest:a", "complaint", "x", category="fee'; --")
    with pytest.raises(InvalidInput):
        svc.ticket_status("rest:a", "TK1")


def test_personal_data_is_stored_masked(svc, engine):
    phone, id_number, card = "13912345678", "110101199001011234", "6222021234567890123"
    detail = f"我的手机{phone}，身份证{id_number}，银行卡{card}，被乱扣费"
    ticket = svc.create_ticket("rest:a", "complaint", detail, contact=phone)
    svc.record_risk_event("rest:a", "fraud_report", f"有人冒充客服让我转账，对方手机{phone} 身份证{id_number}")
    svc.record_handoff("rest:a", "rest", "complaint", f"客户{phone}要求人工，身份证{id_number}")
    assert phone not in ticket.detail and phone not in (ticket.contact or "")
    with engine.connect() as conn:
        stored = " ".join(
            str(v)
            for query in ("SELECT detail, contact FROM tickets", "SELECT text FROM risk_events",
                          "SELECT summary FROM handoffs")
            for row in conn.execute(text(query))
            for v in row
        )
    for secret in (phone, id_number, card):
        assert secret not in stored
    assert "5678" in stored  # last digits survive for reference


def test_handoff_and_risk_event_records(svc, engine):
    handoff = svc.record_handoff("rest:a", "rest", "general", "客户要求人工")
    event = svc.record_risk_event("rest:a", "urgent_need", "急用钱")
    assert handoff.id > 0 and handoff.queue == "general" and handoff.created_at == START
    assert event.id > 0 and event.kind == "urgent_need"
    with pytest.raises(InvalidInput):
        svc.record_risk_event("rest:a", "DROP TABLE", "x")
    with pytest.raises(InvalidInput):
        svc.record_handoff("rest:a", None, "general", "x")


# ---------------------------------------------------- cancellation & certificate


def test_cancel_rules(svc, engine, clock):
    with pytest.raises(NotVerified):
        svc.request_cancel("rest:a", REVIEWING)
    svc.verify_identity("rest:a", REVIEWING, "1234")
    with pytest.raises(NotVerified):  # basic is not enough
        svc.request_cancel("rest:a", REVIEWING)

    make_strong(svc, engine, "rest:a", REVIEWING)
    result = svc.request_cancel("rest:a", REVIEWING)
    assert (result.status, result.stage) == ("cancelled", "cancelled")
    assert svc.request_cancel("rest:a", REVIEWING).status == "already_cancelled"
    assert svc.get_progress("rest:a", REVIEWING).stage_label == "已取消"
    with session_scope(engine) as s:
        assert s.get(Application, REVIEWING).stage_updated_at == START

    make_strong(svc, engine, "rest:b", PENDING)
    assert svc.request_cancel("rest:b", PENDING).status == "cancelled"

    assert svc.strong_by_openid("wx:c", "o_demo_openid_5678", DISBURSED)
    disbursed = svc.request_cancel("wx:c", DISBURSED)
    assert (disbursed.status, disbursed.stage) == ("not_cancellable", "disbursed")
    assert "提前还款" in (disbursed.suggestion or "")

    make_strong(svc, engine, "rest:d", DECLINED)
    assert svc.request_cancel("rest:d", DECLINED).status == "not_cancellable"
    with session_scope(engine) as s:
        assert s.get(Application, DECLINED).stage == "declined"
        assert s.get(Application, DISBURSED).stage == "disbursed"


def test_settlement_certificate_only_when_repaid(svc, engine):
    assert svc.strong_by_openid("wx:c", "o_demo_openid_5678", DISBURSED)
    outstanding = svc.request_settlement_certificate("wx:c", DISBURSED)
    assert outstanding.status == "outstanding" and outstanding.ticket is None
    assert outstanding.outstanding_principal == Decimal("20000.00")
    assert outstanding.remaining_periods == 12
    assert "20,000.00" in outstanding.message

    make_strong(svc, engine, "rest:r", REPAID)
    created = svc.request_settlement_certificate("rest:r", REPAID)
    assert created.status == "created" and created.ticket is not None
    assert created.ticket.kind == "settlement_certificate" and created.ticket.sla_hours == 72
    assert created.ticket.application_id == REPAID
    again = svc.request_settlement_certificate("rest:r", REPAID)
    assert again.status == "already_requested" and again.ticket.number == created.ticket.number
    assert [t.number for t in svc.list_tickets("rest:r")] == [created.ticket.number]

    make_strong(svc, engine, "rest:v", REVIEWING)
    assert svc.request_settlement_certificate("rest:v", REVIEWING).status == "not_disbursed"
    with pytest.raises(NotVerified):
        svc.request_settlement_certificate("rest:nobody", REPAID)


# ------------------------------------------------------------------ reseeding


def test_reseed_clears_locks_codes_and_tickets(svc, engine, clock):
    for i in range(10):
        svc.verify_identity(f"rest:x{i}", DISBURSED, "0000")
    assert svc.verify_identity("rest:owner", DISBURSED, "5678").status == "locked"
    svc.create_ticket("rest:a", "complaint", "x")
    svc.verify_identity("rest:a", REVIEWING, "1234")
    svc.send_otp("rest:a", REVIEWING)

    report = seed(engine, now=clock.now, reset=True)
    assert report.seeded and report.reset
    with engine.connect() as conn:
        for table in ("verification_counters", "verifications", "otp_codes", "tickets",
                      "sms_outbox", "risk_events"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0
    assert not svc.is_verified("rest:a", REVIEWING)
    assert svc.verify_identity("rest:owner", DISBURSED, "5678").status == "ok"
