"""credit.service.LoanService robustness against a real SQLite file, with an injectable clock: hostile input,
an unavailable database, and the happy path on PostgreSQL."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from credit import policy
from credit.db.engine import get_engine, session_scope
from credit.db.loans import Customer, Loan, LoanInstallment
from credit.errors import InvalidInput, NotVerified, ServiceUnavailable
from credit.seed import seed
from credit.service import LoanService
from credit.sms.gateway import OutboxSmsGateway
from credit.text.inputs import normalise_application_id, normalise_id_last4
from tests.unit.credit.service.service_kit import DISBURSED, PENDING, REVIEWING, last_code, make_strong, snapshot

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
