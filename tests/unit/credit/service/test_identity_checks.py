"""credit.service.LoanService identity checks against a real SQLite file, with an injectable clock: input
normalisation, verify_identity, progress, OTP and the SMS gateway, WeChat OpenID."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from credit.db.engine import session_scope
from credit.db.identity import OtpCode, VerificationCounter
from credit.db.loans import Application
from credit.errors import InvalidInput, NotFound, NotVerified, RateLimited, ServiceUnavailable
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.service import LoanService
from credit.sms.gateway import OutboxSmsGateway, SmsGateway, UnknownSmsGateway, get_sms_gateway
from credit.text.inputs import normalise_application_id, normalise_id_last4
from credit.views import VerifyResult
from tests.unit.credit.service.service_kit import (
    DECLINED,
    DISBURSED,
    PENDING,
    REPAID,
    REVIEWING,
    START,
    UNKNOWN,
    last_code,
    outbox,
)

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
    assert view.expected == f"一般 1 个工作日内出结果（预计{local.month}月{local.day}日{local:%H:%M}前）"

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
