"""The shape of a customer-facing answer and the small helpers every answer module uses."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

#: the worked example when the customer gave no figures
DEFAULT_EXAMPLE_AMOUNT = 10_000
DEFAULT_EXAMPLE_TERM = 12


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)


# a short figure and the Chinese word next to it ("满 3 期", "1% 收取"): written together in a chat reply; amounts
# in yuan ("866.19 元"), phone numbers and application numbers are left as they are
_FIGURE_THEN_WORD = re.compile(r"(?<![A-Za-z0-9.,:\-])([0-9](?:[0-9.,]{0,5}[0-9])?%?) (?=[\u4e00-\u9fff])(?!元)")
_WORD_THEN_FIGURE = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[0-9](?:[0-9.,]{0,5}[0-9])?%?(?![0-9A-Za-z.:\-]))")


def compact(text: str) -> str:
    """Chinese written the way customers write it: no space between a short figure and its word."""
    return _WORD_THEN_FIGURE.sub("", _FIGURE_THEN_WORD.sub(r"\1", text))


def button(title: str, intent: str) -> dict[str, str]:
    return {"title": title, "payload": f"/{intent}"}


def numbered(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def wan(amount: int) -> str:
    """10000 -> "1万元", 15000 -> "1.5万元", 5000 -> "5,000元"."""
    if amount >= 10_000 and amount % 1_000 == 0:
        text = f"{Decimal(amount) / 10_000:f}"
        return (text.rstrip("0").rstrip(".") if "." in text else text) + "万元"  # 100000 -> "10万元"
    return f"{amount:,}元"
