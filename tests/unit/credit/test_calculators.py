"""Calculators: schedules, prepayment quotes, penalty interest and APR.

Hand-computed reference figures (monthly rate = 12% / 12 = 1%):

20,000 yuan, 12 months, 等额本息
    1.01^2 = 1.0201, ^4 = 1.04060401, ^8 = 1.0828567056, ^12 = 1.1268250301
    payment = 20000 x 0.01 x 1.1268250301 / 0.1268250301 = 1776.9758 -> 1776.98
    interest, period by period (remaining x 1%, rounded half-up to the fen):
      200.00 (20000.00)   184.23 (18423.02)   168.30 (16830.27)   152.22 (15221.59)
      135.97 (13596.83)   119.56 (11955.82)   102.98 (10298.40)    86.24 (8624.40)
       69.34 (6933.66)     52.26 (5226.02)     35.01 (3501.30)     17.59 (1759.33)
    total interest = 1323.70; period 12 pays the remaining 1759.33 + 17.59 = 1776.92.
    (12 x 1776.98 - 20000 = 1323.76 would over-collect 0.06: the last instalment
    absorbs the rounding, so the schedule's total interest is 1323.70.)

12,000 yuan, 12 months, 等额本金: principal 1000.00 a month;
    first = 1000 + 12000 x 1% = 1120.00, last = 1000 + 1000 x 1% = 1010.00,
    total interest = 1% x 1000 x (12 + 11 + ... + 1) = 10 x 78 = 780.00.

10,000 yuan, 12 months, 先息后本: interest 10000 x 1% = 100.00 a month,
    last payment 10,100.00, total interest 1,200.00.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.calculators import (
    EQUAL_INSTALLMENT,
    EQUAL_PRINCIPAL,
    INTEREST_ONLY,
    build_schedule,
    format_yuan,
    level_payment,
    overdue_penalty,
    payment_range,
    prepayment_quote,
    schedule_apr,
)
from credit.catalogue.loader import load_catalogue

D = Decimal
METHODS = [EQUAL_INSTALLMENT, EQUAL_PRINCIPAL, INTEREST_ONLY]


# --- hand-computed schedules ---------------------------------------------------


def test_equal_installment_20000_12pct_12m() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    assert s.first_payment == D("1776.98")
    assert [i.payment for i in s.installments[:11]] == [D("1776.98")] * 11
    assert [i.interest for i in s.installments] == [
        D("200.00"), D("184.23"), D("168.30"), D("152.22"), D("135.97"), D("119.56"),
        D("102.98"), D("86.24"), D("69.34"), D("52.26"), D("35.01"), D("17.59"),
    ]
    assert [i.remaining for i in s.installments] == [
        D("18423.02"), D("16830.27"), D("15221.59"), D("13596.83"), D("11955.82"),
        D("10298.40"), D("8624.40"), D("6933.66"), D("5226.02"), D("3501.30"),
        D("1759.33"), D("0.00"),
    ]
    last = s.installments[-1]
    assert (last.principal, last.interest, last.payment) == (D("1759.33"), D("17.59"), D("1776.92"))
    assert s.total_interest == D("1323.70")
    assert s.total_payment == D("21323.70")
    assert s.method_name == "等额本息"


def test_equal_principal_12000_12pct_12m() -> None:
    s = build_schedule(12000, "0.12", 12, EQUAL_PRINCIPAL)
    assert all(i.principal == D("1000.00") for i in s.installments)
    assert s.first_payment == D("1120.00")
    assert s.installments[1].payment == D("1110.00")
    assert s.last_payment == D("1010.00")
    assert s.total_interest == D("780.00")
    assert s.total_payment == D("12780.00")


def test_interest_only_10000_12pct_12m() -> None:
    s = build_schedule(10000, "0.12", 12, INTEREST_ONLY)
    assert [i.payment for i in s.installments[:11]] == [D("100.00")] * 11
    assert all(i.remaining == D("10000.00") for i in s.installments[:11])
    assert s.last_payment == D("10100.00")
    assert s.total_interest == D("1200.00")


def test_equal_principal_rounding_goes_to_last_instalment() -> None:
    # 10,000 / 3 = 3333.33 (x2), the last principal part is 3333.34
    s = build_schedule(10000, "0.12", 3, EQUAL_PRINCIPAL)
    assert [i.principal for i in s.installments] == [D("3333.33"), D("3333.33"), D("3333.34")]
    assert [i.interest for i in s.installments] == [D("100.00"), D("66.67"), D("33.33")]


def test_zero_rate() -> None:
    s = build_schedule(1000, 0, 3, EQUAL_INSTALLMENT)
    assert [i.payment for i in s.installments] == [D("333.33"), D("333.33"), D("333.34")]
    assert s.total_interest == 0


@pytest.mark.parametrize(
    "args",
    [(0, "0.12", 12, EQUAL_INSTALLMENT), (1000, "-0.1", 12, EQUAL_INSTALLMENT),
     (1000, "0.12", 0, EQUAL_INSTALLMENT), (1000, "0.12", 12, "balloon")],
)
def test_build_schedule_rejects_bad_input(args) -> None:
    with pytest.raises(ValueError):
        build_schedule(*args)


def test_level_payment_formula() -> None:
    assert level_payment(D("20000"), D("0.01"), 12) == D("1776.98")
    # 100,000 at 6% for 12 months: 500 x 1.0616778 / 0.0616778 = 8606.64
    assert level_payment(D("100000"), D("0.005"), 12) == D("8606.64")


def test_payment_range() -> None:
    sx = load_catalogue().product("suixinjie")
    low, high = payment_range(sx, 10000, 12, EQUAL_INSTALLMENT)
    assert low.annual_rate == D("0.072") and high.annual_rate == D("0.239")
    assert low.first_payment < high.first_payment
    with pytest.raises(ValueError):
        payment_range(sx, 10000, 12, INTEREST_ONLY)
    with pytest.raises(ValueError):
        payment_range(sx, 10000, 18, EQUAL_INSTALLMENT)
    with pytest.raises(ValueError):
        payment_range(sx, 500, 12, EQUAL_INSTALLMENT)


def test_format_yuan() -> None:
    assert format_yuan(D("1776.98")) == "1,776.98 元"
    assert format_yuan(20000) == "20,000.00 元"


# --- prepayment ------------------------------------------------------------------


def test_full_prepayment_with_fee_before_three_periods() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    q = prepayment_quote(s, 2, product="suixinjie", days_since_last_due=15)
    assert q.full
    assert q.outstanding_before == q.principal_repaid == D("16830.27")
    # 16830.27 x 0.12 / 360 x 15 = 84.15135 -> 84.15
    assert q.interest_to_date == D("84.15")
    # 1% of the prepaid principal: 168.3027 -> 168.30
    assert (q.fee_rate, q.fee) == (D("0.01"), D("168.30"))
    assert q.total_now == D("17082.72")
    # scheduled interest for periods 3..12 = 1323.70 - 200.00 - 184.23 = 939.47
    assert q.interest_saved == D("939.47") - D("84.15") == D("855.32")
    assert q.net_saving == D("687.02")
    assert q.remaining_principal == 0
    assert q.new_schedule is None and q.new_monthly_payment is None


def test_full_prepayment_free_after_three_periods_on_due_date() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    q = prepayment_quote(s, 3, product=load_catalogue().product("suixinjie"))
    assert q.fee == 0 and q.interest_to_date == 0
    assert q.total_now == D("15221.59")
    assert q.interest_saved == D("1323.70") - D("200.00") - D("184.23") - D("168.30")


def test_partial_prepayment_keeps_term_and_recomputes_payment() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    q = prepayment_quote(s, 3, 5000, product="suixinjie", days_since_last_due=10)
    assert not q.full
    assert q.remaining_principal == D("10221.59")
    # 5000 x 0.12 / 360 x 10 = 16.666.. -> 16.67
    assert q.interest_to_date == D("16.67")
    assert q.fee == 0
    assert q.total_now == D("5016.67")
    assert q.new_schedule is not None and q.new_schedule.months == 9
    # 10221.59 x 0.01 x 1.01^9 / (1.01^9 - 1), 1.01^9 = 1.0936852727 -> 1193.27
    assert q.new_monthly_payment == D("1193.27")
    old_future = s.interest_after(3)
    assert q.interest_saved == old_future - q.interest_to_date - q.new_schedule.total_interest
    assert q.interest_saved > 0


def test_prepayment_fee_rules_per_product() -> None:
    s = build_schedule(100000, "0.10", 24, EQUAL_INSTALLMENT)
    # 安家分期: always free
    assert prepayment_quote(s, 0, product="anjia").fee == 0
    # 周转贷: 2% before 6 months of loan age, free afterwards
    q = prepayment_quote(s, 5, 10000, product="zhouzhuan")
    assert (q.fee_rate, q.fee) == (D("0.02"), D("200.00"))
    assert prepayment_quote(s, 5, 10000, product="zhouzhuan", loan_age_months=6).fee == 0
    # 随心借: 1% before 3 paid instalments
    assert prepayment_quote(s, 2, 10000, product="suixinjie").fee == D("100.00")


def test_prepayment_interest_only_schedule() -> None:
    s = build_schedule(10000, "0.12", 12, INTEREST_ONLY)
    q = prepayment_quote(s, 6, 4000, product="anjia", days_since_last_due=30)
    assert q.interest_to_date == D("40.00")  # 4000 x 0.12 / 360 x 30
    assert q.new_schedule is not None
    assert q.new_schedule.first_payment == D("60.00")  # 6000 x 1%
    assert q.new_schedule.last_payment == D("6060.00")
    # scheduled 6 x 100 = 600; now 40 + 6 x 60 = 400 -> saves 200
    assert q.interest_saved == D("200.00")


@pytest.mark.parametrize(
    ("paid", "amount", "days"),
    [(12, None, 0), (-1, None, 0), (0, 0, 0), (0, 30000, 0), (0, None, 40)],
)
def test_prepayment_rejects_bad_input(paid, amount, days) -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    with pytest.raises(ValueError):
        prepayment_quote(s, paid, amount, product="suixinjie", days_since_last_due=days)


def test_prepay_whole_outstanding_is_full() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    q = prepayment_quote(s, 2, "16830.27", product="suixinjie")
    assert q.full and q.new_schedule is None


# --- overdue penalty ---------------------------------------------------------------


def test_overdue_penalty() -> None:
    within = overdue_penalty(1000, "0.12", 3)
    assert within.in_grace and within.penalty_interest == 0 and not within.credit_reported
    # 1000 x (0.12 x 1.5) / 360 x 10 = 5.00
    late = overdue_penalty(1000, "0.12", 10)
    assert (late.penalty_apr, late.penalty_interest) == (D("0.18"), D("5.00"))
    assert overdue_penalty(1000, "0.239", 31).penalty_apr == D("0.24")
    assert overdue_penalty(1000, "0.12", 31).credit_reported


# --- APR -------------------------------------------------------------------------


def test_apr_of_12pct_equal_installment_is_12pct() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    apr = schedule_apr(20000, s.payments)
    assert abs(apr - D("0.12")) < D("0.0001")


def test_apr_of_exact_flows() -> None:
    # 10,000 repaid as 12 x 100 interest + 10,000 at the end: IRR exactly 1%/month
    s = build_schedule(10000, "0.12", 12, INTEREST_ONLY)
    assert schedule_apr(10000, s.payments) == D("0.12000000")


def test_upfront_fee_raises_apr() -> None:
    s = build_schedule(20000, "0.12", 12, EQUAL_INSTALLMENT)
    apr = schedule_apr(20000, s.payments, upfront_fee=600)
    # receiving 19,400 for the same payments: about 17.8%, well above the nominal 12%
    assert D("0.175") < apr < D("0.181")


def test_equal_principal_apr_matches_nominal() -> None:
    s = build_schedule(12000, "0.12", 12, EQUAL_PRINCIPAL)
    assert abs(schedule_apr(12000, s.payments) - D("0.12")) < D("0.0001")


@pytest.mark.parametrize(
    ("principal", "payments", "fee"),
    [(1000, [], 0), (1000, [D(100)], 1000), (1000, [D(-1), D(2000)], 0)],
)
def test_apr_rejects_bad_input(principal, payments, fee) -> None:
    with pytest.raises(ValueError):
        schedule_apr(principal, payments, upfront_fee=fee)


# --- properties ------------------------------------------------------------------

principals = st.integers(min_value=100_000, max_value=100_000_000).map(lambda fen: D(fen) / 100)
rates = st.integers(min_value=10, max_value=2400).map(lambda bp: D(bp) / 10000)
terms = st.integers(min_value=1, max_value=60)


@settings(max_examples=200, deadline=None)
@given(principal=principals, rate=rates, months=terms, method=st.sampled_from(METHODS))
def test_schedule_invariants(principal: Decimal, rate: Decimal, months: int, method: str) -> None:
    s = build_schedule(principal, rate, months, method)
    assert len(s.installments) == months
    assert sum(i.principal for i in s.installments) == principal
    assert s.installments[-1].remaining == 0
    assert all(i.payment > 0 for i in s.installments)
    assert all(i.principal >= 0 and i.interest >= 0 for i in s.installments)
    assert all(i.payment == i.principal + i.interest for i in s.installments)
    remaining = [i.remaining for i in s.installments]
    assert remaining == sorted(remaining, reverse=True)
    assert s.total_payment == principal + s.total_interest
    assert all(i.payment.as_tuple().exponent == -2 for i in s.installments)


@settings(max_examples=100, deadline=None)
@given(principal=principals, rate=rates, months=st.integers(min_value=2, max_value=60))
def test_equal_installment_payments_are_level(principal: Decimal, rate: Decimal, months: int) -> None:
    s = build_schedule(principal, rate, months, EQUAL_INSTALLMENT)
    assert len({i.payment for i in s.installments[:-1]}) == 1
    assert abs(s.last_payment - s.first_payment) <= D("0.01") * months


@settings(max_examples=100, deadline=None)
@given(principal=principals, rate=rates, months=terms)
def test_apr_of_no_fee_equal_installment_equals_nominal(
    principal: Decimal, rate: Decimal, months: int
) -> None:
    s = build_schedule(principal, rate, months, EQUAL_INSTALLMENT)
    apr = schedule_apr(principal, s.payments)
    assert abs(apr - rate) <= D("0.0001")  # within 0.01 percentage point


@settings(max_examples=100, deadline=None)
@given(principal=principals, rate=rates, months=st.integers(min_value=2, max_value=36),
       data=st.data())
def test_prepayment_invariants(principal: Decimal, rate: Decimal, months: int, data) -> None:
    method = data.draw(st.sampled_from(METHODS))
    s = build_schedule(principal, rate, months, method)
    paid = data.draw(st.integers(min_value=0, max_value=months - 1))
    outstanding = s.remaining_after(paid)
    fen = data.draw(st.integers(min_value=1, max_value=int(outstanding * 100)))
    amount = D(fen) / 100
    days = data.draw(st.integers(min_value=0, max_value=31))
    q = prepayment_quote(s, paid, amount, product="suixinjie", days_since_last_due=days)
    assert q.principal_repaid + q.remaining_principal == outstanding
    assert q.total_now == q.principal_repaid + q.interest_to_date + q.fee
    assert q.fee >= 0 and q.interest_to_date >= 0
    if q.new_schedule is not None:
        assert q.new_schedule.principal == q.remaining_principal
        assert q.new_schedule.months == months - paid
    else:
        assert q.full
