"""credit.seed: demo data relative to ``now``, idempotence, reset, command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from credit.calculators import build_schedule
from credit.db.base import PROJECT_ROOT
from credit.db.engine import get_engine, init_db, session_scope
from credit.db.loans import Application, Customer, Loan
from credit.loans import due_date
from credit.policy import CHINA_TZ
from credit.seed import DEMO_OPENID, main, seed

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'credit.db'}"


@pytest.fixture()
def engine(db_url: str):
    eng = get_engine(db_url)
    init_db(eng)
    yield eng
    eng.dispose()


def _apps(engine):
    with session_scope(engine) as s:
        return {a.application_id: a for a in s.execute(select(Application)).scalars()}


def test_seed_creates_the_demo_applications(engine):
    report = seed(engine, now=NOW)
    assert report.seeded and not report.reset
    assert [r.application_id for r in report.records] == [
        "SQ202611200001", "SQ202611180002", "SQ202611150003", "SQ202611210004", "SQ202604200005",
        "SQ202610300006", "SQ202609280007",
    ]
    last4 = [r.id_last4 for r in report.records]
    assert last4 == ["1234", "5678", "4321", "8765", "246X", "3579", "9753"]
    assert len(set(last4)) == len(last4)

    with session_scope(engine) as s:
        apps = {a.application_id: a for a in s.execute(select(Application)).scalars()}
        reviewing = apps["SQ202611200001"]
        assert (reviewing.stage, reviewing.product, reviewing.amount, reviewing.term) == (
            "reviewing", "suixinjie", Decimal("50000.00"), 36)
        assert reviewing.submitted_at == NOW - timedelta(days=1)
        assert reviewing.customer.id_last4 == "1234"
        assert reviewing.loan is None

        assert apps["SQ202611150003"].stage == "declined"
        assert apps["SQ202611150003"].customer.id_last4 == "4321"
        assert apps["SQ202611210004"].stage == "pending_signing"

        disbursed = apps["SQ202611180002"]
        customer = disbursed.customer
        assert disbursed.stage == "disbursed" and disbursed.product == "suixinjie"
        assert (customer.id_last4, customer.phone, customer.wechat_openid) == (
            "5678", "13800005678", DEMO_OPENID)
        loan = disbursed.loan
        assert loan.principal == Decimal("20000.00") and loan.annual_rate == Decimal("0.120000")
        assert (loan.term_months, loan.method, loan.paid_periods, loan.status) == (
            12, "equal_installment", 0, "active")
        assert loan.disbursed_at == NOW - timedelta(days=5)
        assert loan.outstanding_principal == Decimal("20000.00")
        schedule = build_schedule(Decimal("20000"), Decimal("0.12"), 12, "equal_installment")
        rows = loan.installments
        assert [r.period for r in rows] == list(range(1, 13))
        assert [(r.payment, r.principal, r.interest, r.remaining) for r in rows] == [
            (i.payment, i.principal, i.interest, i.remaining) for i in schedule.installments
        ]
        disbursed_on = loan.disbursed_at.astimezone(CHINA_TZ).date()
        assert [r.due_date for r in rows] == [due_date(disbursed_on, p) for p in range(1, 13)]
        assert not any(r.paid for r in rows)

        repaid = apps["SQ202604200005"]
        assert repaid.stage == "disbursed"
        assert repaid.loan.status == "settled"
        assert repaid.loan.outstanding_principal == Decimal("0.00")
        assert repaid.loan.paid_periods == repaid.loan.term_months
        assert all(r.paid and r.paid_at is not None for r in repaid.loan.installments)
        assert max(r.due_date for r in repaid.loan.installments) < NOW.date()


def test_customers_hold_only_masked_id_numbers(engine):
    seed(engine, now=NOW)
    with session_scope(engine) as s:
        for c in s.execute(select(Customer)).scalars():
            assert c.id_number_masked.endswith(c.id_last4)
            assert "*" * 8 in c.id_number_masked and len(c.id_number_masked) == 18
            assert len(c.phone) == 11


def test_seed_is_a_no_op_when_data_exists(engine):
    seed(engine, now=NOW)
    again = seed(engine, now=NOW + timedelta(days=3))
    assert not again.seeded and again.records == ()
    assert "--reset" in again.summary()
    with session_scope(engine) as s:
        assert s.execute(select(func.count(Application.application_id))).scalar_one() == 7
        assert s.execute(select(func.count(Loan.id))).scalar_one() == 4


def test_reset_wipes_every_table_and_reseeds_relative_to_now(engine):
    seed(engine, now=NOW)
    later = NOW + timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO verification_counters (scope, key, failures, locked_until, updated_at) "
            "VALUES ('sender', 'rest:x', 0, :until, :now)"), {"until": later, "now": later})
        conn.execute(text(
            "INSERT INTO sms_outbox (phone, text, created_at) VALUES ('13800005678', 'x', :now)"),
            {"now": later})
    report = seed(engine, now=later, reset=True)
    assert report.seeded and report.reset and len(report.records) == 7
    assert report.summary().startswith("已清空并重建演示数据")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM verification_counters")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM sms_outbox")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM customers")).scalar() == 7
    assert _apps(engine)["SQ202611200001"].submitted_at == later - timedelta(days=1)


def test_seed_creates_missing_tables(tmp_path):
    eng = get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert seed(eng, now=NOW).seeded
    eng.dispose()


def test_summary_is_chinese_and_lists_every_application(engine):
    summary = seed(engine, now=NOW).summary()
    assert summary.startswith("已写入演示数据")
    for needle in ("SQ202611200001", "审批中", "已放款", "未通过", "待签约", "246X"):
        assert needle in summary


def test_main_seeds_then_reports_existing_data(db_url, capsys):
    assert main(["--database-url", db_url]) == 0
    assert "已写入演示数据" in capsys.readouterr().out
    assert main(["--database-url", db_url]) == 0
    assert "未写入" in capsys.readouterr().out
    assert main(["--database-url", db_url, "--reset"]) == 0
    assert "已清空并重建" in capsys.readouterr().out


def test_python_dash_m_uses_database_url(db_url):
    env = dict(os.environ, DATABASE_URL=db_url)
    done = subprocess.run([sys.executable, "-m", "credit.seed", "--reset"], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SQ202611180002" in done.stdout
    eng = get_engine(db_url)
    with session_scope(eng) as s:
        assert s.execute(select(func.count(Customer.id))).scalar_one() == 7
    eng.dispose()
