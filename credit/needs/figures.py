"""Income and existing monthly repayments in a customer's words, told apart from a loan amount.

"月收入八千左右" is an income of 8,000, not a loan of 8,000; "每个月还房贷三千" is 3,000 of
existing repayments.  The figure counts as income or debt only right after the words that say
so (月收入/工资/月薪/年薪 …, 房贷/车贷/月供/信用卡 …); each candidate span covers those words and
the number, so it wins the overlap with the amount finder (:mod:`credit.text.spans`).  Everything
else stays an amount.  Annual income is given per month.
"""
from __future__ import annotations

import re

from credit.text.numbers import NUMBER_EXPR, normalize
from credit.text.numerals import to_number
from credit.text.spans import Candidate, Priority, Span, extract, first

_GAP = r"(?:大概|大约|差不多|基本|一般|能有|有|是|在|能|就|才|也就|税后|到手|:|：|，|,|\s){0,4}"
_MONTHLY_INCOME = re.compile(r"(?:月收入|月入|收入|工资|月薪|薪水|薪资|底薪|到手"
                             r"|一个月(?:能)?(?:挣|赚|拿)|每个?月(?:能)?(?:挣|赚|拿))" + _GAP)
_YEARLY_INCOME = re.compile(r"(?:年薪|年收入|一年(?:能)?(?:挣|赚|收入))" + _GAP)
_DEBT = re.compile(r"(?:(?:每个?月|一个月|月)?(?:要|得|需要)?还?"
                   r"(?:房贷|车贷|月供|信用卡|别家的?|别的(?:贷款|平台)|其他(?:贷款|平台)的?)"
                   r"|(?:每个?月|一个月)(?:要|得|需要)?还(?:款)?)(?:每个?月|一个月)?(?:要|得)?(?:还)?" + _GAP)
_CURRENCY = re.compile(r"\s*(?:块钱|元钱|元|块|rmb|RMB)?\s*(?:左右|多|上下|出头)?")
MAX_MONTHLY = 10_000_000


def _after(pattern: re.Pattern[str], t: str, entity: str, per_year: bool) -> list[Candidate]:
    out: list[Candidate] = []
    for keyword in pattern.finditer(t):
        number = NUMBER_EXPR.match(t, keyword.end())
        if number is None:
            continue
        expr = number.group(0).rstrip(",.点")
        value = to_number(expr) if expr else None
        if value is None or value <= 0:
            continue
        monthly = int(round(value / 12 if per_year else value))
        if not 0 < monthly <= MAX_MONTHLY or (monthly < 100 and not re.search(r"[百千万kKwW]", expr)):
            continue
        end = _CURRENCY.match(t, number.start() + len(expr)).end()
        out.append((Priority.FIGURE, Span(entity, str(monthly), keyword.start(), end, t[keyword.start():end])))
    return out


def figure_candidates(t: str) -> list[Candidate]:
    """Income (monthly yuan) and existing monthly repayment candidates in the folded text ``t``."""
    return (_after(_MONTHLY_INCOME, t, "income", False) + _after(_YEARLY_INCOME, t, "income", True)
            + _after(_DEBT, t, "monthly_debt", False))


def parse_income(text: str | None, loose: bool = False) -> int | None:
    """Monthly income; ``loose`` (answering "月收入多少?") also reads a bare number as income."""
    value = first(extract(text, [figure_candidates]), "income")
    if value is None and loose:
        return _bare(text)
    return int(value) if value is not None else None


def parse_monthly_debt(text: str | None, loose: bool = False) -> int | None:
    """Existing monthly repayments; ``loose`` also reads a bare number (answering "每月还多少?")."""
    value = first(extract(text, [figure_candidates]), "monthly_debt")
    if value is None and loose:
        return _bare(text)
    return int(value) if value is not None else None


def _bare(text: str | None) -> int | None:
    folded = normalize(text or "")[:200]
    number = NUMBER_EXPR.search(folded)
    if number is None:
        return None
    expr = number.group(0).rstrip(",.点")
    value = to_number(expr) if expr else None
    if value is None or not 0 <= value <= MAX_MONTHLY:
        return None
    return int(round(value))


__all__ = ["figure_candidates", "parse_income", "parse_monthly_debt"]
