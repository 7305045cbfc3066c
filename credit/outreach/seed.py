"""Demo facts for reaching out first (``credit.seed`` calls :func:`seed_outreach`).

* every demo customer's own contact points: the registered mobile for SMS and calls (verified),
  the bound WeChat OpenID where there is one (verified);
* an emergency contact per customer, as lenders keep them, so that "never a third party" is tested
  against real rows;
* the demo loans' deduction and repayment records: the repaid loan's history, and a failed automatic
  deduction on the loan whose first instalment fell due yesterday;
* :func:`first_due_in` places a demo loan's first due date a few days from seeding, so a reminder
  falls due soon after ``make run``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.db.loans import Customer, Loan, LoanInstallment
from credit.db.outreach import ContactPoint, EmergencyContact, RepaymentRecord
from credit.loans import add_months, china_date
from credit.policy import CHINA_TZ

EMERGENCY = {"张伟": ("张建国", "父亲"), "李娜": ("王强", "配偶"), "王芳": ("王丽", "姐姐"), "刘洋": ("刘军", "兄弟"),
             "陈静": ("陈明", "父亲"), "赵磊": ("赵敏", "配偶"), "孙丽": ("孙强", "兄弟")}


def first_due_in(now: datetime, days: int) -> datetime:
    """A disbursement time whose first instalment falls due ``days`` (about) from ``now``, Beijing days;
    moved a day or two where the due-day rule (never after the 28th) needs it."""
    today = china_date(now)
    step = 1 if days >= 0 else -1
    target = today + timedelta(days=days)
    while target.day > 28:  # due days are the 1st-28th: the nearest allowed day in the same direction
        target += timedelta(days=step)
    disbursed_on: date = add_months(target, -1)
    return datetime.combine(disbursed_on, time(10, 0), tzinfo=CHINA_TZ)


def seed_outreach(session: Session, now: datetime) -> None:
    customers = session.execute(select(Customer).order_by(Customer.id)).scalars().all()
    for n, customer in enumerate(customers):
        session.add(ContactPoint(customer_id=customer.id, channel="sms", address=customer.phone, verified=True,
                                 subscribed=True, changed_at=customer.created_at))
        session.add(ContactPoint(customer_id=customer.id, channel="phone", address=customer.phone, verified=True,
                                 subscribed=True, changed_at=customer.created_at))
        if customer.wechat_openid:
            session.add(ContactPoint(customer_id=customer.id, channel="wechat", address=customer.wechat_openid,
                                     verified=True, subscribed=True, changed_at=customer.created_at))
        name, relation = EMERGENCY.get(customer.name, ("李华", "朋友"))
        session.add(EmergencyContact(customer_id=customer.id, name=name, relation=relation,
                                     phone=f"1390000{n:04d}"))
    for loan in session.execute(select(Loan)).scalars().all():
        for inst in session.execute(select(LoanInstallment).where(LoanInstallment.loan_id == loan.id)
                                    .order_by(LoanInstallment.period)).scalars():
            due_morning = datetime.combine(inst.due_date, time(6, 0), tzinfo=CHINA_TZ)
            if inst.paid:
                session.add(RepaymentRecord(loan_id=loan.id, period=inst.period, kind="auto_debit", result="success",
                                            amount=inst.payment, at=due_morning))
            elif due_morning <= now:  # fell due and was not paid: the morning's deduction failed
                session.add(RepaymentRecord(loan_id=loan.id, period=inst.period, kind="auto_debit", result="failed",
                                            amount=inst.payment, reason="余额不足", at=due_morning))


__all__ = ["seed_outreach", "first_due_in", "EMERGENCY"]
