"""credit.service.LoanService against a real SQLite file, with an injectable clock."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from credit import policy
from credit.calculators import build_schedule
from credit.db.engine import get_engine, init_db, session_scope
from credit.db.identity import OtpCode, VerificationCounter
from credit.db.loans import Application, Customer, Loan, LoanInstallment
from credit.db.sms import SmsOutbox
from credit.errors import InvalidInput, NotFound, NotVerified, RateLimited, ServiceUnavailable
from credit.loans import due_date
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.service import LoanService
from credit.sms.gateway import OutboxSmsGateway, SmsGateway, UnknownSmsGateway, get_sms_gateway
from credit.text.inputs import normalise_application_id, normalise_id_last4
from credit.tickets import records as tickets
from credit.views import VerifyResult

START = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing

REVIEWING = "SQ202611200001"  # last4 1234
DISBURSED = "SQ202611180002"  # last4 5678, openid o_demo_openid_5678, phone 13800005678
DECLINED = "SQ202611150003"  # last4 4321
PENDING = "SQ202611210004"  # last4 8765
REPAID = "SQ202604200005"  # last4 246X
UNKNOWN = "SQ209912310099"
LAST4 = {REVIEWING: "1234", DISBURSED: "5678", DECLINED: "4321", PENDING: "8765", REPAID: "246X"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture()
def clock() -> Clock:
    return Clock(START)


@pytest.fixture()
def engine(tmp_path: Path):
    eng = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def svc(engine, clock) -> LoanService:
    seed(engine, now=clock.now)
    return LoanService(engine, clock=clock, sms=OutboxSmsGateway(engine))


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


# --------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("SQ202611200001", "SQ202611200001"),
        ("  sq202611200001 ", "SQ202611200001"),
        ("ＳＱ２０２６１１２０００１", None),  # 11 digits
        ("ＳＱ２０２６１１２００００１", "SQ202611200001"),
        ("SQ 2026-1120-0001", "SQ202611200001"),
        ("SQ20261120000", None),
        ("SQ2026112000011", None),
        ("SQ202611200001' OR '1'='1", None),
        (None, None),
        (202611200001, None),
        ("x" * 10_000, None),
    ],
)
def test_normalise_application_id(raw, expected):
    assert normalise_application_id(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("1234", "1234"), (" １２３４ ", "1234"), ("246x", "246X"), ("２４６ｘ", "246X"),
     ("12X4", None), ("12345", None), ("abcd", None), (None, None), (1234, None), ("😀😀😀😀", None)],
)
def test_normalise_id_last4(raw, expected):
    assert normalise_id_last4(raw) == expected


# -------------------------------------------------------------- verify_identity


def test_correct_check_gives_basic_verification(svc):
    assert svc.verify_identity("rest:a", REVIEWING, "1234") == VerifyResult("ok", None, None)
    assert svc.is_verified("rest:a", REVIEWING)
    assert not svc.is_verified("rest:a", REVIEWING, "strong")
    assert not svc.is_verified("rest:b", REVIEWING)  # per sender
    assert not svc.is_verified("rest:a", DISBURSED)  # per application


def test_full_width_and_lower_case_x_are_accepted(svc):
    assert svc.verify_identity("rest:a", "ｓｑ２０２６０４２００００５", "２４６ｘ").status == "ok"
    assert svc.verify_identity("rest:b", REPAID, "246x").status == "ok"


def test_wrong_digits_fail_with_attempts_left(svc):
    assert svc.verify_identity("rest:a", REVIEWING, "0000") == VerifyResult("failed", 2, None)
    assert svc.verify_identity("rest:a", REVIEWING, "9999") == VerifyResult("failed", 1, None)
    assert not svc.is_verified("rest:a", REVIEWING)


def test_three_failures_lock_the_sender_for_30_minutes(svc, clock):
    svc.verify_identity("rest:a", REVIEWING, "0000")
    svc.verify_identity("rest:a", REVIEWING, "0001")
    third = svc.verify_identity("rest:a", REVIEWING, "0002")
    assert third.status == "locked" and third.attempts_left == 0
    assert third.locked_until == START + timedelta(minutes=30)
    # Even the right digits are refused while locked, for any application.
    clock.advance(minutes=29, seconds=59)
    assert svc.verify_identity("rest:a", REVIEWING, "1234").status == "locked"
    assert svc.verify_identity("rest:a", DISBURSED, "5678").status == "locked"
    # Another sender is not affected.
    assert svc.verify_identity("rest:b", REVIEWING, "1234").status == "ok"
    clock.advance(seconds=1)
    assert svc.verify_identity("rest:a", REVIEWING, "1234").status == "ok"


def test_lock_creates_a_risk_event(svc, engine):
    for code in ("0000", "0001", "0002"):
        svc.verify_identity("rest:a", REVIEWING, code)
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind FROM risk_events")).scalars().all()
    assert kinds == ["verification_lock"]


def test_success_resets_the_sender_failure_count(svc):
    svc.verify_identity("rest:a", REVIEWING, "0000")
    svc.verify_identity("rest:a", REVIEWING, "0001")
    assert svc.verify_identity("rest:a", REVIEWING, "1234").status == "ok"
    assert svc.verify_identity("rest:a", REVIEWING, "0002") == VerifyResult("failed", 2, None)


def test_failure_window_forgets_old_failures(svc, clock):
    svc.verify_identity("rest:a", REVIEWING, "0000")
    svc.verify_identity("rest:a", REVIEWING, "0001")
    clock.advance(minutes=31)
    assert svc.verify_identity("rest:a", REVIEWING, "0002") == VerifyResult("failed", 2, None)


def test_ten_failures_on_one_application_lock_it_for_everyone(svc, clock):
    results = [svc.verify_identity(f"rest:attacker{i}", DISBURSED, f"{i:04d}") for i in range(10)]
    assert [r.status for r in results] == ["failed"] * 9 + ["locked"]
    # The real customer, from a new conversation, with the right digits: locked.
    locked = svc.verify_identity("wx:owner", DISBURSED, "5678")
    assert locked.status == "locked"
    assert locked.locked_until == START + timedelta(minutes=30)
    # Other applications are unaffected.
    assert svc.verify_identity("rest:attacker0", REVIEWING, "1234").status == "ok"
    clock.advance(minutes=30)
    assert svc.verify_identity("wx:owner", DISBURSED, "5678").status == "ok"


def test_unknown_application_is_indistinguishable_from_wrong_digits(svc, engine, clock):
    real = [svc.verify_identity("rest:r", DISBURSED, "0000") for _ in range(3)]
    fake = [svc.verify_identity("rest:f", UNKNOWN, "0000") for _ in range(3)]
    assert real == fake
    assert [r.status for r in real] == ["failed", "failed", "locked"]
    # Same counters: the unknown number has an application counter exactly like a real one.
    with session_scope(engine) as s:
        rows = {
            (c.scope, c.key): (c.failures, c.locked_until)
            for c in s.execute(select(VerificationCounter)).scalars()
        }
    assert rows[("application", DISBURSED)] == rows[("application", UNKNOWN)] == (3, None)
    assert rows[("sender", "rest:r")] == rows[("sender", "rest:f")]
    # And an unknown number also locks after ten failures.
    for i in range(7):
        svc.verify_identity(f"rest:x{i}", UNKNOWN, "0000")
    assert svc.verify_identity("rest:new", UNKNOWN, "1234").status == "locked"


def test_unknown_application_with_right_looking_digits_never_succeeds(svc):
    for digits in ("0000", "1234", "5678", "????"):
        assert svc.verify_identity(f"rest:{digits}", UNKNOWN, digits).status == "failed"


def test_verification_expires_after_10_minutes(svc, clock):
    svc.verify_identity("rest:a", REVIEWING, "1234")
    clock.advance(minutes=9, seconds=59)
    assert svc.is_verified("rest:a", REVIEWING)
    assert svc.get_progress("rest:a", REVIEWING).stage == "reviewing"
    clock.advance(seconds=1)
    assert not svc.is_verified("rest:a", REVIEWING)
    with pytest.raises(NotVerified) as info:
        svc.get_progress("rest:a", REVIEWING)
    assert info.value.level == "basic"


def test_is_verified_rejects_unknown_level(svc):
    with pytest.raises(InvalidInput):
        svc.is_verified("rest:a", REVIEWING, "super")


# ------------------------------------------------------------------- progress


def test_progress_view_uses_catalogue_stage_texts(svc):
    svc.verify_identity("rest:a", REVIEWING, "1234")
    view = svc.get_progress("rest:a", REVIEWING)
    assert (view.stage, view.stage_label, view.product_name) == ("reviewing", "审批中", "随心借")
    assert view.amount == Decimal("50000.00") and view.term == 36
    assert view.next_step and view.description
    assert view.submitted_at == START - timedelta(days=1)
    local = view.expected_done_at.astimezone(CHINA_TZ)
    assert view.expected == f"预计{local.month}月{local.day}日{local:%H:%M}前"

    svc.verify_identity("rest:a", DECLINED, "4321")
    declined = svc.get_progress("rest:a", DECLINED)
    assert declined.stage == "declined" and declined.stage_label == "未通过"

    svc.verify_identity("rest:a", PENDING, "8765")
    assert svc.get_progress("rest:a", PENDING).stage_label == "待签约"


def test_progress_requires_verification(svc):
    with pytest.raises(NotVerified):
        svc.get_progress("rest:a", REVIEWING)
    with pytest.raises(InvalidInput):
        svc.get_progress("rest:a", "not a number")


# ------------------------------------------------------------------------ OTP


def test_otp_round_trip_through_the_outbox(svc, engine):
    with pytest.raises(NotVerified):
        svc.send_otp("rest:a", DISBURSED)
    svc.verify_identity("rest:a", DISBURSED, "5678")
    sent = svc.send_otp("rest:a", DISBURSED)
    assert sent.masked_phone == "138****5678"
    assert sent.expires_at == START + timedelta(minutes=5)
    phone, body = outbox(engine)[-1]
    assert phone == "13800005678"
    assert "请勿" in body and "验证码" in body
    code = last_code(engine)
    with session_scope(engine) as s:
        stored = s.execute(select(OtpCode.code_hash)).scalar_one()
    assert code not in stored
    assert not svc.is_verified("rest:a", DISBURSED, "strong")
    assert svc.check_otp("rest:a", DISBURSED, f" {code} ") == "ok"
    assert svc.is_verified("rest:a", DISBURSED, "strong")
    assert svc.is_verified("rest:a", DISBURSED, "basic")  # strong satisfies basic
    assert svc.check_otp("rest:a", DISBURSED, code) == "expired"  # single use


def test_otp_full_width_digits_accepted(svc, engine):
    svc.verify_identity("rest:a", DISBURSED, "5678")
    svc.send_otp("rest:a", DISBURSED)
    code = last_code(engine)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert svc.check_otp("rest:a", DISBURSED, full_width) == "ok"


def test_five_wrong_codes_invalidate_the_code(svc, engine):
    svc.verify_identity("rest:a", DISBURSED, "5678")
    svc.send_otp("rest:a", DISBURSED)
    code = last_code(engine)
    wrong = "000000" if code != "000000" else "111111"
    results = [svc.check_otp("rest:a", DISBURSED, wrong) for _ in range(5)]
    assert results == ["wrong"] * 4 + ["locked"]
    assert svc.check_otp("rest:a", DISBURSED, code) == "locked"
    assert not svc.is_verified("rest:a", DISBURSED, "strong")


def test_otp_expires_after_5_minutes(svc, engine, clock):
    svc.verify_identity("rest:a", DISBURSED, "5678")
    svc.send_otp("rest:a", DISBURSED)
    code = last_code(engine)
    clock.advance(minutes=5)
    assert svc.check_otp("rest:a", DISBURSED, code) == "expired"


def test_new_code_replaces_the_old_one(svc, engine):
    svc.verify_identity("rest:a", DISBURSED, "5678")
    svc.send_otp("rest:a", DISBURSED)
    first = last_code(engine)
    svc.send_otp("rest:a", DISBURSED)
    second = last_code(engine)
    if first != second:
        assert svc.check_otp("rest:a", DISBURSED, first) == "wrong"
    assert svc.check_otp("rest:a", DISBURSED, second) == "ok"


def test_check_without_a_code_is_expired(svc):
    assert svc.check_otp("rest:a", DISBURSED, "123456") == "expired"


def test_otp_sends_are_rate_limited(svc, clock):
    svc.verify_identity("rest:a", DISBURSED, "5678")
    assert [svc.send_otp("rest:a", DISBURSED).sends_left for _ in range(3)] == [2, 1, 0]
    with pytest.raises(RateLimited) as info:
        svc.send_otp("rest:a", DISBURSED)
    assert info.value.locked_until == START + timedelta(minutes=10)
    clock.advance(minutes=9)
    svc.verify_identity("rest:a", DISBURSED, "5678")  # basic expires after 10 minutes
    clock.advance(minutes=1, seconds=1)
    assert svc.send_otp("rest:a", DISBURSED).masked_phone == "138****5678"


def test_sms_failure_is_service_unavailable_and_burns_the_code(engine, clock):
    class Broken:
        def send(self, phone: str, text: str, **_: object) -> None:
            raise ConnectionError("gateway down")

    seed(engine, now=clock.now)
    svc = LoanService(engine, clock=clock, sms=Broken())
    svc.verify_identity("rest:a", DISBURSED, "5678")
    with pytest.raises(ServiceUnavailable):
        svc.send_otp("rest:a", DISBURSED)
    with session_scope(engine) as s:
        assert s.execute(select(OtpCode.used)).scalar_one() is True


# ----------------------------------------------------------------- SMS gateway


def test_sms_gateway_selection(engine, monkeypatch):
    monkeypatch.delenv("SMS_GATEWAY", raising=False)
    gateway = get_sms_gateway(engine)
    assert isinstance(gateway, OutboxSmsGateway) and isinstance(gateway, SmsGateway)
    gateway.send("13800001234", "你好")
    assert outbox(engine) == [("13800001234", "你好")]
    monkeypatch.setenv("SMS_GATEWAY", "aliyun")
    with pytest.raises(UnknownSmsGateway, match="aliyun"):
        get_sms_gateway(engine)
    with pytest.raises(UnknownSmsGateway):
        LoanService(engine)


# ---------------------------------------------------------------------- WeChat


def test_strong_by_openid(svc):
    assert not svc.strong_by_openid("wx:o", "o_wrong", DISBURSED)
    assert not svc.strong_by_openid("wx:o", "o_demo_openid_5678", REVIEWING)  # not bound there
    assert not svc.strong_by_openid("wx:o", "o_demo_openid_5678", UNKNOWN)
    assert not svc.strong_by_openid("wx:o", None, DISBURSED)
    assert not svc.is_verified("wx:o", DISBURSED)
    assert svc.strong_by_openid("wx:o", "o_demo_openid_5678", DISBURSED)
    assert svc.is_verified("wx:o", DISBURSED, "strong")
    assert svc.get_loan_details("wx:o", DISBURSED).principal == Decimal("20000.00")


def test_bind_wechat_openid(svc, engine):
    with session_scope(engine) as s:
        customer_id = s.execute(
            select(Application.customer_id).where(Application.application_id == REVIEWING)
        ).scalar_one()
    svc.bind_wechat_openid(customer_id, "o_new")
    assert svc.strong_by_openid("wx:n", "o_new", REVIEWING)
    with pytest.raises(NotFound):
        svc.bind_wechat_openid(999_999, "o_x")


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


# ----------------------------------------------------------- hostile input

HOSTILE = [
    None,
    "",
    "   ",
    "SQ202611200001' OR '1'='1",
    "'; DROP TABLE applications; --",
    "1234' OR 1=1 --",
    "x" * 10_000,
    "😀" * 50,
    "\x00\x01\x02",
    "SQ202611200001\x00",
    12345,
    ["SQ202611200001"],
    {"$ne": None},
]


@pytest.mark.parametrize("bad", HOSTILE, ids=lambda v: repr(v)[:30])
def test_hostile_input_never_escapes_or_changes_rows(svc, engine, bad):
    before = snapshot(engine)
    # Application number and digits: a plain failure.
    assert svc.verify_identity("rest:h1", bad, "1234").status in ("failed", "locked")
    assert svc.verify_identity("rest:h2", REVIEWING, bad).status in ("failed", "locked")
    assert not svc.is_verified(bad, REVIEWING) and not svc.is_verified("rest:h1", bad)
    # Sender id: InvalidInput (or a normal result for a printable short string).
    for call in (
        lambda: svc.verify_identity(bad, REVIEWING, "0000"),
        lambda: svc.get_progress(bad, REVIEWING),
        lambda: svc.list_tickets(bad),
        lambda: svc.create_ticket(bad, "complaint", "x"),
    ):
        try:
            call()
        except (InvalidInput, NotVerified):
            pass
    for call in (
        lambda: svc.get_progress("rest:h1", bad),
        lambda: svc.get_loan_details("rest:h1", bad),
        lambda: svc.send_otp("rest:h1", bad),
        lambda: svc.request_cancel("rest:h1", bad),
        lambda: svc.request_settlement_certificate("rest:h1", bad),
        lambda: svc.ticket_status("rest:h1", bad),
        lambda: svc.create_ticket("rest:h1", bad, "x"),
        lambda: svc.create_ticket("rest:h1", "complaint", "x", category=bad or "💥"),
        lambda: svc.record_risk_event("rest:h1", bad, "x"),
    ):
        with pytest.raises((InvalidInput, NotVerified)):
            call()
    assert svc.check_otp("rest:h1", REVIEWING, bad) in ("expired", "wrong", "locked")
    assert svc.strong_by_openid("rest:h1", bad, DISBURSED) is False
    assert snapshot(engine) == before
    # The real customer is unaffected by all of this (app counter untouched by malformed ids).
    assert svc.verify_identity("rest:owner", REVIEWING, "1234").status == "ok"


def test_control_characters_are_removed_from_free_text(svc, engine):
    ticket = svc.create_ticket("rest:a", "complaint", "a\x00b\x1bc\n第二行", contact="\x00139\x0012345678")
    svc.record_risk_event("rest:a", "fraud_report", "\x00\x00")
    svc.record_handoff("rest:a", "rest", "general", "x\x00y")
    assert ticket.detail == "abc\n第二行"
    assert ticket.contact == "139****5678"  # NUL cannot smuggle a phone number past masking
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT detail, contact FROM tickets")).one()
        assert "\x00" not in "".join(v or "" for v in stored)


def test_long_free_text_is_truncated_not_rejected(svc):
    ticket = svc.create_ticket("rest:a", "complaint", "很慢" * 5000, contact="😀" * 500)
    assert len(ticket.detail) == policy.MAX_TEXT_CHARS
    assert len(ticket.contact or "") <= 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(app=st.one_of(st.none(), st.text(max_size=40), st.just(REVIEWING)),
       digits=st.one_of(st.none(), st.text(max_size=8)))
def test_fuzzed_verification_never_raises(svc, engine, app, digits):
    before = snapshot(engine)
    sender = f"rest:{uuid.uuid4().hex}"
    result = svc.verify_identity(sender, app, digits)
    expected_ok = normalise_application_id(app) == REVIEWING and normalise_id_last4(digits) == "1234"
    assert result.status == ("ok" if expected_ok else "failed") or result.status == "locked"
    assert snapshot(engine) == before


# ------------------------------------------------------------ unavailability


def test_missing_tables_surface_as_service_unavailable(tmp_path, clock):
    bare = get_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    svc = LoanService(bare, clock=clock, sms=OutboxSmsGateway(bare))
    with pytest.raises(ServiceUnavailable):
        svc.verify_identity("rest:a", REVIEWING, "1234")
    with pytest.raises(ServiceUnavailable):
        svc.create_ticket("rest:a", "complaint", "x")
    bare.dispose()


def test_unreachable_postgres_is_service_unavailable(clock):
    eng = get_engine("postgresql+psycopg2://nobody:nothing@127.0.0.1:1/none",
                     connect_args={"connect_timeout": 2})
    svc = LoanService(eng, clock=clock, sms=OutboxSmsGateway(eng))
    with pytest.raises(ServiceUnavailable) as info:
        svc.is_verified("rest:a", REVIEWING)
    assert "稍后" in str(info.value)
    eng.dispose()


# ------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
def test_postgres_happy_path(clock, postgres_url):
    """Runs in a throw-away schema, so it never touches existing tables."""
    url = postgres_url
    schema = f"credit_test_{uuid.uuid4().hex[:10]}"
    base = get_engine(url)
    with base.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = base.execution_options(schema_translate_map={None: schema})
    try:
        report = seed(engine, now=clock.now)
        assert report.seeded and len(report.records) == 7
        svc = LoanService(engine, clock=clock, sms=OutboxSmsGateway(engine))
        assert svc.verify_identity("rest:pg", DISBURSED, "0000").attempts_left == 2
        assert svc.verify_identity("rest:pg", DISBURSED, "5678").status == "ok"
        assert svc.get_progress("rest:pg", DISBURSED).stage_label == "已放款"
        svc.send_otp("rest:pg", DISBURSED)
        assert svc.check_otp("rest:pg", DISBURSED, last_code(engine)) == "ok"
        view = svc.get_loan_details("rest:pg", DISBURSED)
        assert view.principal == Decimal("20000.00") and view.next_due_amount == Decimal("1776.98")
        ticket = svc.create_ticket("rest:pg", "complaint", "手机13912345678", application_id=DISBURSED)
        assert svc.ticket_status("rest:pg", ticket.number) == ticket
        make_strong(svc, engine, "rest:pg2", PENDING)
        assert svc.request_cancel("rest:pg2", PENDING).status == "cancelled"
        assert svc.strong_by_openid("wx:pg", "o_demo_openid_5678", DISBURSED)
        with session_scope(engine) as s:
            assert s.execute(select(func.count(LoanInstallment.id))).scalar_one() == 36  # 12 + 6 + 12 + 6
            assert s.execute(select(func.count(Loan.id))).scalar_one() == 4
            assert s.execute(select(func.count(Customer.id))).scalar_one() == 7
        assert seed(engine, now=clock.now, reset=True).seeded
    finally:
        with base.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        base.dispose()
