"""Table-driven tests for credit.text.numbers: amounts and terms (regex + cn2an)."""

from __future__ import annotations

import pytest

from credit.entities import extract_all
from credit.text.numbers import (
    parse_amount,
    parse_term,
)


def ents(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.value) for s in extract_all(text)]


# --------------------------------------------------------------------------
# amount and term
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5000", 5000),
        ("5千", 5000),
        ("五千", 5000),
        ("5k", 5000),
        ("5K", 5000),
        ("1.5万", 15000),
        ("一万五", 15000),
        ("一万五千块", 15000),
        ("两万", 20000),
        ("2w", 20000),
        ("2W", 20000),
        ("¥20,000", 20000),
        ("￥20000", 20000),
        ("20000元", 20000),
        ("3千块钱", 3000),
        ("借1万分12期", 10000),
        ("借1万分12期利息多少", 10000),
        ("我想借两万五", 25000),
        ("一点五万", 15000),
        ("1万5", 15000),
        ("十万", 100000),
        ("1,000,000元", 1000000),
        ("５０００元", 5000),
        ("12期", None),
        ("一年", None),
        ("千万别借", None),
        ("我想借一点钱", None),
        ("99999999999999元", None),  # absurd
        ("1" * 40 + "元", None),
        ("", None),
        ("利息多少", None),
        ("等一下", None),  # a stray 一 is not an amount
        ("50", None),  # bare numbers below 100 are not amounts
        ("50元", 50),
    ],
)
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12期", 12),
        ("十二期", 12),
        ("十二个月", 12),
        ("12个月", 12),
        ("一年", 12),
        ("两年", 24),
        ("半年", 6),
        ("一年半", 18),
        ("分12期", 12),
        ("分三十六期", 36),
        ("借1万分12期", 12),
        ("借1万分12期利息多少", 12),
        ("１２期", 12),
        ("12", 12),  # bare answer to "分几期?"
        ("2026年", None),
        ("三年前借过", None),
        ("第3期还款", None),
        ("1000期", None),
        ("借5000", None),
        ("", None),
    ],
)
def test_parse_term(text, expected):
    assert parse_term(text) == expected


@pytest.mark.parametrize("text, amount", [("我把3578发过去了", None), ("我把1234填上了", None),
                                          ("把5000还了", "5000"), ("想把20000全还了", "20000")])
def test_a_number_sent_after_ba_is_no_sum_of_money(text, amount):
    found = [e.value for e in extract_all(text) if e.entity == "amount"]
    assert found == ([amount] if amount else [])
