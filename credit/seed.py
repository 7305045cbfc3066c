"""Demo data: ``python -m credit.seed [--reset] [--database-url URL]``.

``seed(engine)`` fills an empty database with seven demo applications (timestamps
relative to ``now``); ``reset=True`` first deletes every row of every table (including
verification locks, one-time codes, tickets and the SMS outbox).  All people, numbers
and phone numbers are fictional.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from credit.catalogue.loader import format_apr, load_catalogue
from credit.catalogue.lookups import method_label, stage_info
from credit.db.base import as_utc, utcnow
from credit.db.engine import get_engine, init_db, session_scope, wipe_all
from credit.db.loans import Application, Customer
from credit.loans import book_loan
from credit.outreach.seed import first_due_in, seed_outreach
from credit.text.masking import mask_phone
from credit.wechat_identity import seed_demo_unionids

DEMO_OPENID = "o_demo_openid_5678"


@dataclass(frozen=True)
class DemoRecord:
    application_id: str
    id_last4: str
    customer_name: str
    phone_masked: str
    product: str
    amount: Decimal
    term: int
    stage: str
    note: str


@dataclass(frozen=True)
class SeedReport:
    seeded: bool  # False when the database already had data and reset was not asked
    reset: bool
    records: tuple[DemoRecord, ...]

    def summary(self) -> str:
        """Short Chinese summary for the command line."""
        if not self.seeded:
            return "数据库中已有数据，未写入演示数据（如需重建请加 --reset）。"
        head = "已清空并重建演示数据：" if self.reset else "已写入演示数据："
        lines = [head]
        for r in self.records:
            lines.append(
                f"  {r.application_id}  身份证后四位 {r.id_last4}  {r.customer_name}  "
                f"{stage_info(r.stage).label}  ¥{r.amount:,.0f}/{r.term}期  {r.note}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Demo:
    application_id: str
    name: str
    id_last4: str
    id_prefix: str  # first six digits (region code) of the fictional ID number
    phone: str
    openid: str | None
    product: str
    amount: Decimal
    term: int
    stage: str
    submitted_days_ago: float
    stage_days_ago: float
    expected_in_days: float | None
    note: str
    # loan (disbursed only)
    annual_rate: Decimal | None = None
    method: str | None = None
    paid_periods: int = 0
    first_due_in_days: int | None = None  # disbursed so that the first instalment falls due this many days on


def _demos() -> list[_Demo]:
    demo_loan = load_catalogue().demo_loan  # product / rate / method of the main demo loan
    return [
        _Demo("SQ202611200001", "张伟", "1234", "110101", "13800001234", None,
              "suixinjie", Decimal("50000"), 36, "reviewing", 1, 1, 1,
              "审批中，1 天前提交"),
        _Demo("SQ202611180002", "李娜", "5678", "310104", "13800005678", DEMO_OPENID,
              demo_loan.product, Decimal("20000"), 12, "disbursed", 7, 5, None,
              f"已放款 5 天，{format_apr(demo_loan.annual_rate)} {method_label(demo_loan.method)}，0 期已还，"
              f"已绑定微信 {DEMO_OPENID}",
              annual_rate=demo_loan.annual_rate, method=demo_loan.method, paid_periods=0),
        _Demo("SQ202611150003", "王芳", "4321", "440305", "13800004321", None,
              "suixinjie", Decimal("100000"), 24, "declined", 8, 7, None,
              "未通过"),
        _Demo("SQ202611210004", "刘洋", "8765", "320102", "13800008765", None,
              "anjia", Decimal("80000"), 24, "pending_signing", 3, 0.25, None,
              "审批已通过，待签约（可取消）"),
        _Demo("SQ202604200005", "陈静", "246X", "510107", "13800002460", None,
              "suixinjie", Decimal("10000"), 6, "disbursed", 215, 213, None,
              "已全部还清（6/6 期，等额本金），可申请结清证明；身份证末位为 X",
              annual_rate=Decimal("0.108"), method="equal_principal", paid_periods=6),
        # reaching out first: a reminder falls due soon after seeding, and an overdue with a failed deduction
        _Demo("SQ202610300006", "赵磊", "3579", "330106", "13800003579", "o_demo_openid_3579",
              demo_loan.product, Decimal("12000"), 12, "disbursed", 36, 29, None,
              "已放款，第 1 期 2 天内到期（还款提醒），已绑定微信 o_demo_openid_3579",
              annual_rate=demo_loan.annual_rate, method=demo_loan.method, first_due_in_days=2),
        _Demo("SQ202609280007", "孙丽", "9753", "420102", "13800009753", None,
              demo_loan.product, Decimal("8000"), 6, "disbursed", 38, 31, None,
              "已放款，第 1 期昨天到期未还，自动扣款失败（逾期第 1 天）",
              annual_rate=demo_loan.annual_rate, method=demo_loan.method, first_due_in_days=-1),
    ]


def _masked_id(prefix: str, last4: str) -> str:
    return f"{prefix}{'*' * 8}{last4}"


def is_empty(engine: Engine) -> bool:
    with session_scope(engine) as session:
        customers = session.execute(select(func.count(Customer.id))).scalar_one()
        applications = session.execute(select(func.count(Application.application_id))).scalar_one()
    return customers == 0 and applications == 0


def seed(engine: Engine, now: datetime | None = None, reset: bool = False) -> SeedReport:
    """Create the demo data if the database is empty (or after wiping it when ``reset``)."""
    now = as_utc(now) if now is not None else utcnow()
    init_db(engine)
    if reset:
        wipe_all(engine)
    elif not is_empty(engine):
        return SeedReport(seeded=False, reset=False, records=())

    records: list[DemoRecord] = []
    with session_scope(engine) as session:
        for d in _demos():
            customer = Customer(
                name=d.name,
                id_last4=d.id_last4,
                id_number_masked=_masked_id(d.id_prefix, d.id_last4),
                phone=d.phone,
                wechat_openid=d.openid,
                created_at=now - timedelta(days=d.submitted_days_ago),
            )
            application = Application(
                application_id=d.application_id,
                customer=customer,
                product=d.product,
                amount=d.amount,
                term=d.term,
                stage=d.stage,
                submitted_at=now - timedelta(days=d.submitted_days_ago),
                stage_updated_at=now - timedelta(days=d.stage_days_ago),
                expected_next_step=None,  # the catalogue's stage text applies
                expected_done_at=(
                    now + timedelta(days=d.expected_in_days) if d.expected_in_days is not None else None
                ),
            )
            session.add_all([customer, application])
            session.flush()
            if d.stage == "disbursed":
                assert d.annual_rate is not None and d.method is not None
                disbursed_at = (first_due_in(now, d.first_due_in_days) if d.first_due_in_days is not None
                                else now - timedelta(days=d.stage_days_ago))
                application.stage_updated_at = min(disbursed_at, now)
                book_loan(
                    session,
                    application,
                    principal=d.amount,
                    annual_rate=d.annual_rate,
                    term_months=d.term,
                    method=d.method,
                    disbursed_at=disbursed_at,
                    paid_periods=d.paid_periods,
                )
            records.append(
                DemoRecord(
                    application_id=d.application_id,
                    id_last4=d.id_last4,
                    customer_name=d.name,
                    phone_masked=mask_phone(d.phone),
                    product=d.product,
                    amount=d.amount,
                    term=d.term,
                    stage=d.stage,
                    note=d.note,
                )
            )
        session.flush()
        seed_outreach(session, now)
        seed_demo_unionids(session, now)
    return SeedReport(seeded=True, reset=reset, records=tuple(records))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m credit.seed", description="写入演示数据（数据库为空时）"
    )
    parser.add_argument("--reset", action="store_true", help="清空所有表后重建演示数据")
    parser.add_argument("--database-url", default=None, help="默认读取 DATABASE_URL 或 sqlite:///var/credit.db")
    args = parser.parse_args(argv)
    engine = get_engine(args.database_url)
    try:
        report = seed(engine, reset=args.reset)
    except OperationalError as exc:
        print(f"无法连接数据库：{exc.orig}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
