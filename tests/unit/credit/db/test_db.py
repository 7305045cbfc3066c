"""credit.db: engine helpers, SQLite settings, exact types, constraints."""

from __future__ import annotations

import threading
import warnings
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from credit.db import base as db
from credit.db.engine import get_engine, init_db, resolve_database_url, session_scope, wipe_all
from credit.db.loans import Application, Customer, Loan, LoanInstallment
from credit.db.sms import SmsOutbox
from credit.db.tickets import Ticket

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


@pytest.fixture()
def engine(tmp_path: Path):
    eng = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


def _customer(**kw) -> Customer:
    values = dict(name="测试", id_last4="1234", id_number_masked="110101********1234",
                  phone="13800001234", created_at=NOW)
    values.update(kw)
    return Customer(**values)


def _application(customer: Customer, app_id: str = "SQ209900000001", **kw) -> Application:
    values = dict(application_id=app_id, customer=customer, product="suixinjie",
                  amount=Decimal("50000"), term=36, stage="reviewing",
                  submitted_at=NOW, stage_updated_at=NOW)
    values.update(kw)
    return Application(**values)


# ----------------------------------------------------------------- URL resolution


def test_default_url_is_var_credit_db_under_project_root(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = resolve_database_url()
    assert url == f"sqlite:///{db.PROJECT_ROOT / 'var' / 'credit.db'}"
    assert (db.PROJECT_ROOT / "var").is_dir()


def test_database_url_env_wins_and_relative_sqlite_is_anchored(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x' / 'y.db'}")
    assert resolve_database_url() == f"sqlite:///{tmp_path / 'x' / 'y.db'}"
    assert (tmp_path / "x").is_dir()
    # An explicit argument beats the environment.
    assert resolve_database_url("postgresql://u:p@h/db") == "postgresql://u:p@h/db"
    # Relative SQLite paths are relative to the project root, not the working directory.
    monkeypatch.chdir(tmp_path)
    assert resolve_database_url("sqlite:///var/credit.db").endswith(
        str(db.PROJECT_ROOT / "var" / "credit.db")
    )


def test_in_memory_sqlite_shares_one_database():
    eng = get_engine("sqlite://")
    init_db(eng)
    with session_scope(eng) as s:
        s.add(_customer())
    with session_scope(eng) as s:
        assert s.execute(select(func.count(Customer.id))).scalar_one() == 1
    eng.dispose()


# ------------------------------------------------------------------- SQLite setup


def test_sqlite_uses_wal_busy_timeout_and_foreign_keys(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_init_db_is_idempotent_and_creates_every_table(engine):
    init_db(engine)
    names = set(inspect(engine).get_table_names())
    assert {
        "customers", "applications", "loans", "loan_installments", "tickets", "handoffs",
        "risk_events", "verification_counters", "verification_attempts", "verifications",
        "sms_outbox", "otp_codes",
    } <= names


def test_customers_table_has_no_full_id_number_column(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("customers")}
    assert "id_number_masked" in columns and "id_last4" in columns
    assert not {"id_number", "id_card", "id_no"} & columns


def test_two_engines_share_the_file_and_concurrent_writers_wait(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = get_engine(url), get_engine(url)
    init_db(first)
    errors: list[BaseException] = []

    def write(eng, n: int) -> None:
        try:
            for i in range(20):
                with session_scope(eng) as s:
                    s.add(SmsOutbox(phone=f"1380000{n}{i:03d}", text="t", created_at=NOW))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(e, n)) for n, e in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(second) as s:
        assert s.execute(select(func.count(SmsOutbox.id))).scalar_one() == 40
    first.dispose()
    second.dispose()


# ------------------------------------------------------------------------ types


def test_money_and_rate_round_trip_exactly_without_warnings(engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with session_scope(engine) as s:
            app = _application(_customer(), amount=Decimal("12345678901.23"))
            s.add(app)
            s.flush()
            s.add(Loan(application_id=app.application_id, principal=Decimal("0.10"),
                       annual_rate=Decimal("0.123456"), term_months=12,
                       method="equal_installment", disbursed_at=NOW,
                       outstanding_principal=Decimal("19999.99"), paid_periods=0,
                       status="active"))
        with session_scope(engine) as s:
            app = s.get(Application, "SQ209900000001")
            loan = app.loan
            assert app.amount == Decimal("12345678901.23")
            assert isinstance(app.amount, Decimal)
            assert loan.principal == Decimal("0.10") and str(loan.principal) == "0.10"
            assert loan.annual_rate == Decimal("0.123456")
            assert loan.outstanding_principal == Decimal("19999.99")
            # Still numeric in SQL: comparisons and sums work in the database.
            total = s.execute(select(func.sum(Loan.outstanding_principal))).scalar_one()
            assert Decimal(str(total)) == Decimal("19999.99")


def test_datetimes_come_back_aware_utc(engine):
    shanghai = timezone(timedelta(hours=8))
    with session_scope(engine) as s:
        s.add(_customer(created_at=datetime(2026, 11, 21, 10, 0, tzinfo=shanghai)))
        s.add(_customer(phone="13800000000", created_at=datetime(2026, 11, 21, 2, 0)))  # naive = UTC
    with session_scope(engine) as s:
        values = s.execute(select(Customer.created_at).order_by(Customer.id)).scalars().all()
    assert values == [NOW, NOW]
    assert all(v.tzinfo is not None and v.utcoffset() == timedelta(0) for v in values)


# ------------------------------------------------------------------ constraints


def test_ticket_numbers_and_openids_are_unique(engine):
    ticket = dict(kind="complaint", detail="", sender_id="s", status="open", sla_hours=24,
                  due_at=NOW, created_at=NOW)
    with session_scope(engine) as s:
        s.add(Ticket(number="TK202611210001", **ticket))
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            s.add(Ticket(number="TK202611210001", **ticket))
    with session_scope(engine) as s:
        s.add(_customer(wechat_openid="o_same"))
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            s.add(_customer(phone="13800009999", wechat_openid="o_same"))


def test_session_scope_rolls_back_on_error(engine):
    with pytest.raises(RuntimeError):
        with session_scope(engine) as s:
            s.add(_customer())
            s.flush()
            raise RuntimeError("boom")
    with session_scope(engine) as s:
        assert s.execute(select(func.count(Customer.id))).scalar_one() == 0


def test_installments_cascade_and_wipe_all_empties_every_table(engine):
    with session_scope(engine) as s:
        app = _application(_customer())
        s.add(app)
        s.flush()
        loan = Loan(application_id=app.application_id, principal=Decimal("100"),
                    annual_rate=Decimal("0.1"), term_months=1, method="equal_installment",
                    disbursed_at=NOW, outstanding_principal=Decimal("100"), paid_periods=0,
                    status="active")
        loan.installments.append(LoanInstallment(period=1, due_date=date(2026, 12, 21),
                                                 payment=Decimal("100.83"), principal=Decimal("100"),
                                                 interest=Decimal("0.83"), remaining=Decimal("0")))
        s.add(loan)
        s.add(SmsOutbox(phone="13800001234", text="x", created_at=NOW))
    wipe_all(engine)
    with engine.connect() as conn:
        for table in db.Base.metadata.sorted_tables:
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar() == 0
