"""Repayment schedules, prepayment quotes and the all-in annualised rate (APR).

Conventions (every figure shown to a customer follows them):

* Money is ``Decimal`` yuan; rates are ``Decimal`` fractions (``Decimal("0.12")`` = 12%).
* Monthly rate = annual rate / 12; daily rate = annual rate / 360, applied to the
  actual number of days (used for interest up to a prepayment day and for
  penalty interest).
* Each period's interest is rounded half-up to the fen (0.01 yuan) on the
  principal outstanding at the start of the period; the equal-instalment payment
  and the equal-principal principal part are also rounded half-up to the fen.
* The last instalment absorbs the rounding remainder: its principal part is
  whatever is still outstanding, so the principal parts sum exactly to the
  principal and ``remaining`` ends at 0.00.
* Methods: ``equal_installment`` 等额本息 (level payment), ``equal_principal``
  等额本金 (level principal, falling payments), ``interest_only`` 先息后本
  (interest every month, principal with the last instalment).
* APR (:func:`schedule_apr`) is the all-in annualised rate required by the PBOC
  announcement 〔2021〕第3号: the monthly internal rate of return of the cash
  flows (amount actually received vs. every payment, fees included) x 12, i.e.
  single-interest annualised on the principal actually outstanding. A no-fee
  12% 等额本息 loan therefore has an APR of 12%; an upfront fee raises it.

Worked example (checked by hand in ``tests/unit/credit/test_calculators.py``):
20,000 yuan, 12%, 12 months, 等额本息: monthly rate 1%, 1.01^12 = 1.12682503,
payment = 20000 x 0.01 x 1.12682503 / 0.12682503 = 1776.9758 -> 1776.98;
interest column 200.00, 184.23, 168.30, 152.22, 135.97, 119.56, 102.98, 86.24,
69.34, 52.26, 35.01, 17.59 (sum 1323.70); the 12th payment is 1759.33 + 17.59 =
1776.92; total paid 21,323.70.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Union

from credit.catalogue.loader import SUPPORTED_METHODS, OverdueRules, Product, load_catalogue

Number = Union[Decimal, int, str]

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
MONTHS_PER_YEAR = 12
DAYS_PER_YEAR = 360

EQUAL_INSTALLMENT = "equal_installment"
EQUAL_PRINCIPAL = "equal_principal"
INTEREST_ONLY = "interest_only"

#: Code -> Chinese name of every method the calculators implement.
METHOD_NAMES = dict(SUPPORTED_METHODS)


def to_decimal(value: Number | float) -> Decimal:
    """Convert without float artefacts (``0.1`` -> ``Decimal("0.1")``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("bool is not a number here")
    return Decimal(str(value))


def round_fen(value: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(amount: Number) -> str:
    """``Decimal("1776.98")`` -> ``"1,776.98 元"``."""
    return f"{round_fen(to_decimal(amount)):,.2f} 元"


# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Installment:
    period: int
    payment: Decimal
    principal: Decimal
    interest: Decimal
    remaining: Decimal  # principal outstanding after this payment


@dataclass(frozen=True)
class Schedule:
    method: str
    principal: Decimal
    annual_rate: Decimal
    months: int
    installments: tuple[Installment, ...]
    total_interest: Decimal
    total_payment: Decimal

    @property
    def method_name(self) -> str:
        return METHOD_NAMES[self.method]

    @property
    def monthly_rate(self) -> Decimal:
        return self.annual_rate / MONTHS_PER_YEAR

    @property
    def first_payment(self) -> Decimal:
        return self.installments[0].payment

    @property
    def last_payment(self) -> Decimal:
        return self.installments[-1].payment

    @property
    def payments(self) -> list[Decimal]:
        return [i.payment for i in self.installments]

    def remaining_after(self, paid_periods: int) -> Decimal:
        """Principal outstanding once ``paid_periods`` instalments have been paid."""
        _check_paid_periods(self, paid_periods, allow_all=True)
        return self.principal if paid_periods == 0 else self.installments[paid_periods - 1].remaining

    def interest_after(self, paid_periods: int) -> Decimal:
        """Scheduled interest still to come after ``paid_periods`` instalments."""
        _check_paid_periods(self, paid_periods, allow_all=True)
        return sum((i.interest for i in self.installments[paid_periods:]), ZERO)


def build_schedule(principal: Number, annual_rate: Number, months: int, method: str) -> Schedule:
    """Repayment schedule under the module conventions.

    >>> build_schedule(20000, "0.12", 12, "equal_installment").first_payment
    Decimal('1776.98')
    """
    p = round_fen(to_decimal(principal))
    rate = to_decimal(annual_rate)
    if p <= 0:
        raise ValueError(f"principal must be positive, got {principal}")
    if rate < 0:
        raise ValueError(f"annual_rate must not be negative, got {annual_rate}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    if method not in METHOD_NAMES:
        raise ValueError(f"unknown repayment method {method!r}; known: {', '.join(METHOD_NAMES)}")

    r = rate / MONTHS_PER_YEAR
    if method == EQUAL_INSTALLMENT:
        rows = _equal_installment(p, r, months)
    elif method == EQUAL_PRINCIPAL:
        rows = _equal_principal(p, r, months)
    else:
        rows = _interest_only(p, r, months)
    total_interest = sum((i.interest for i in rows), ZERO)
    total_payment = sum((i.payment for i in rows), ZERO)
    return Schedule(method=method, principal=p, annual_rate=rate, months=months,
                    installments=tuple(rows), total_interest=total_interest,
                    total_payment=total_payment)


def level_payment(principal: Decimal, monthly_rate: Decimal, months: int) -> Decimal:
    """The 等额本息 payment ``P r (1+r)^n / ((1+r)^n - 1)`` rounded half-up to the fen."""
    if monthly_rate == 0:
        return round_fen(principal / months)
    with localcontext() as ctx:
        ctx.prec = 34
        growth = (1 + monthly_rate) ** months
        exact = principal * monthly_rate * growth / (growth - 1)
    return round_fen(exact)


def _amortise(principal: Decimal, r: Decimal, months: int, principal_part) -> list[Installment]:
    rows: list[Installment] = []
    remaining = principal
    for period in range(1, months + 1):
        interest = round_fen(remaining * r)
        if period == months:
            part = remaining
        else:
            part = min(max(principal_part(period, interest), ZERO), remaining)
        remaining = remaining - part
        rows.append(Installment(period=period, payment=part + interest, principal=part,
                                interest=interest, remaining=remaining))
    return rows


def _equal_installment(principal: Decimal, r: Decimal, months: int) -> list[Installment]:
    payment = level_payment(principal, r, months)
    return _amortise(principal, r, months, lambda _period, interest: payment - interest)


def _equal_principal(principal: Decimal, r: Decimal, months: int) -> list[Installment]:
    part = round_fen(principal / months)
    return _amortise(principal, r, months, lambda _period, _interest: part)


def _interest_only(principal: Decimal, r: Decimal, months: int) -> list[Installment]:
    return _amortise(principal, r, months, lambda _period, _interest: ZERO)


def payment_range(
    product: Product, principal: Number, months: int, method: str
) -> tuple[Schedule, Schedule]:
    """Schedules at the product's lowest and highest APR (for "月供约 X–Y 元" answers)."""
    if not product.supports_method(method):
        raise ValueError(f"{product.name} 不支持还款方式 {METHOD_NAMES.get(method, method)}")
    if not product.supports_term(months):
        raise ValueError(f"{product.name} 不支持 {months} 期，可选 {product.format_terms()}")
    if not product.amount_in_range(principal):
        raise ValueError(f"{product.name} 的借款金额范围为 {product.format_amount_range()}")
    return (build_schedule(principal, product.apr_min, months, method),
            build_schedule(principal, product.apr_max, months, method))


# ---------------------------------------------------------------------------
# Prepayment
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrepaymentQuote:
    """What prepaying costs now and what it saves.

    ``interest_saved`` compares the scheduled interest still to come with the
    interest actually paid from now on (interest to the prepayment day plus the
    new schedule's interest); ``net_saving`` also deducts the fee.
    """

    full: bool
    paid_periods: int
    days_since_last_due: int
    outstanding_before: Decimal
    principal_repaid: Decimal
    interest_to_date: Decimal
    fee_rate: Decimal
    fee: Decimal
    total_now: Decimal
    remaining_principal: Decimal
    interest_saved: Decimal
    net_saving: Decimal
    new_schedule: Schedule | None
    fee_rule: str

    @property
    def new_monthly_payment(self) -> Decimal | None:
        """First payment of the recomputed schedule (partial prepayment), else ``None``."""
        return self.new_schedule.first_payment if self.new_schedule else None


def prepayment_quote(
    schedule: Schedule,
    paid_periods: int,
    prepay_amount: Number | None = None,
    *,
    product: Product | str,
    loan_age_months: int | None = None,
    days_since_last_due: int = 0,
) -> PrepaymentQuote:
    """Quote a full (``prepay_amount=None``) or partial prepayment.

    ``paid_periods`` instalments have been paid; the prepayment happens
    ``days_since_last_due`` days after the last paid due date (or after
    disbursement when nothing has been paid yet). Interest on the prepaid
    principal is charged only up to that day (annual rate / 360 x actual days).
    A partial prepayment keeps the remaining term and recomputes the payment on
    the reduced principal with the same method and rate. The fee comes from the
    product's catalogue rule, which depends on ``paid_periods`` and
    ``loan_age_months`` (defaults to ``paid_periods``).
    """
    _check_paid_periods(schedule, paid_periods, allow_all=False)
    if isinstance(days_since_last_due, bool) or not 0 <= days_since_last_due <= 31:
        raise ValueError("days_since_last_due must be between 0 and 31")
    if isinstance(product, str):
        product = load_catalogue().product(product)
    age = paid_periods if loan_age_months is None else loan_age_months
    if age < 0:
        raise ValueError("loan_age_months must not be negative")

    outstanding = schedule.remaining_after(paid_periods)
    if prepay_amount is None:
        repaid = outstanding
    else:
        repaid = round_fen(to_decimal(prepay_amount))
        if repaid <= 0:
            raise ValueError("prepay_amount must be positive")
        if repaid > outstanding:
            raise ValueError(
                f"prepay_amount {repaid} exceeds the outstanding principal {outstanding}"
            )
    full = repaid == outstanding
    remaining = outstanding - repaid

    daily = schedule.annual_rate / DAYS_PER_YEAR
    interest_to_date = round_fen(repaid * daily * days_since_last_due)
    fee_rate = product.prepayment.fee_rate_for(paid_periods, age)
    fee = round_fen(repaid * fee_rate)

    months_left = schedule.months - paid_periods
    new_schedule = None
    future_interest = ZERO
    if not full:
        new_schedule = build_schedule(remaining, schedule.annual_rate, months_left, schedule.method)
        future_interest = new_schedule.total_interest
    interest_saved = schedule.interest_after(paid_periods) - interest_to_date - future_interest

    return PrepaymentQuote(
        full=full,
        paid_periods=paid_periods,
        days_since_last_due=days_since_last_due,
        outstanding_before=outstanding,
        principal_repaid=repaid,
        interest_to_date=interest_to_date,
        fee_rate=fee_rate,
        fee=fee,
        total_now=repaid + interest_to_date + fee,
        remaining_principal=remaining,
        interest_saved=interest_saved,
        net_saving=interest_saved - fee,
        new_schedule=new_schedule,
        fee_rule=product.prepayment.description,
    )


def _check_paid_periods(schedule: Schedule, paid_periods: int, *, allow_all: bool) -> None:
    upper = schedule.months if allow_all else schedule.months - 1
    if isinstance(paid_periods, bool) or not isinstance(paid_periods, int):
        raise ValueError(f"paid_periods must be an integer, got {paid_periods!r}")
    if not 0 <= paid_periods <= upper:
        raise ValueError(f"paid_periods must be between 0 and {upper}, got {paid_periods}")


# ---------------------------------------------------------------------------
# Overdue penalty
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OverduePenalty:
    days_overdue: int
    in_grace: bool
    penalty_apr: Decimal
    penalty_interest: Decimal
    credit_reported: bool


def overdue_penalty(
    overdue_principal: Number,
    contract_apr: Number,
    days_overdue: int,
    rules: OverdueRules | None = None,
) -> OverduePenalty:
    """Penalty interest on overdue principal under the catalogue's overdue rules.

    Within the grace period nothing is charged; beyond it penalty interest runs
    from the day after the due date at ``rules.penalty_apr(contract_apr)`` / 360
    per actual day.
    """
    rules = rules or load_catalogue().overdue
    if days_overdue < 0:
        raise ValueError("days_overdue must not be negative")
    apr = rules.penalty_apr(to_decimal(contract_apr))
    in_grace = rules.in_grace(days_overdue)
    interest = ZERO if in_grace else round_fen(
        to_decimal(overdue_principal) * apr / DAYS_PER_YEAR * days_overdue
    )
    return OverduePenalty(days_overdue=days_overdue, in_grace=in_grace, penalty_apr=apr,
                          penalty_interest=interest, credit_reported=rules.reported(days_overdue))


# ---------------------------------------------------------------------------
# APR (IRR)
# ---------------------------------------------------------------------------


def schedule_apr(
    principal: Number, payments: list[Decimal], upfront_fee: Number = 0
) -> Decimal:
    """All-in annualised rate: monthly IRR of the cash flows x 12.

    The borrower receives ``principal - upfront_fee`` at t=0 and pays
    ``payments[k-1]`` at the end of month k. Solved by bisection (monotone NPV,
    no numpy), result rounded to 1e-8 (a millionth of a percentage point).
    """
    net = to_decimal(principal) - to_decimal(upfront_fee)
    flows = [to_decimal(p) for p in payments]
    if net <= 0:
        raise ValueError("upfront_fee must be smaller than the principal")
    if not flows or any(f < 0 for f in flows) or sum(flows) <= 0:
        raise ValueError("payments must be non-negative and not all zero")

    with localcontext() as ctx:
        ctx.prec = 40

        def npv(rate: Decimal) -> Decimal:
            # present value of payments minus the amount received; decreasing in rate
            factor = 1 / (1 + rate)
            discount = Decimal(1)
            total = Decimal(0)
            for f in flows:
                discount *= factor
                total += f * discount
            return total - net

        lo, hi = Decimal("-0.5"), Decimal("1")
        while npv(hi) > 0:  # absurdly expensive flows: widen the bracket
            hi *= 2
            if hi > 10**6:
                raise ValueError("IRR out of range")
        if npv(lo) < 0:
            raise ValueError("payments do not even return half the principal")
        tolerance = Decimal("1e-14")
        while hi - lo > tolerance:
            mid = (lo + hi) / 2
            if npv(mid) > 0:
                lo = mid
            else:
                hi = mid
        monthly = (lo + hi) / 2
        return (monthly * MONTHS_PER_YEAR).quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP)
