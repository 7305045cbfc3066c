"""The conversation state: what the customer told us about their own loan, and where the conversation stands.

Framework-free and typed; the Rasa glue keeps it as a plain dict in the ``dialogue_state`` slot
(:meth:`ConversationState.to_slot` / :meth:`ConversationState.from_slot`), so it survives the tracker store and the
session bound (``credit/session_carry.py`` carries it).  Every field is optional: ``None`` means "not said".
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Optional

#: topics an answer can leave the conversation in (read by the resolver for the next turn)
TOPICS = ("rates", "prepayment", "prepay_example", "repayment", "methods", "overdue", "progress", "declined",
          "eligibility", "limit", "needs", "complaint", "fraud", "trust", "handoff", "account", "closing", "terms")
#: offers an answer can leave open (accepted with "好的/行/算一下")
OFFERS = ("calc_example", "prepay_calc", "loan_details", "negotiation", "progress_check", "callback", "handoff")


@dataclass(frozen=True)
class Example:
    """The last worked example shown: product code, amount (yuan), term (months), repayment method code, and the
    annual rate the customer stated for their own loan (a decimal string, "0.12"; None: the product's range)."""

    product: str
    amount: int
    term: int
    method: str
    apr: Optional[str] = None


@dataclass(frozen=True)
class ConversationState:
    product: Optional[str] = None
    amount: Optional[int] = None
    term: Optional[int] = None
    method: Optional[str] = None
    example: Optional[Example] = None
    days_overdue: Optional[int] = None
    periods_repaid: Optional[int] = None
    income: Optional[int] = None
    monthly_debt: Optional[int] = None
    purpose: Optional[str] = None
    offer: Optional[str] = None
    topic: Optional[str] = None
    verified_application: Optional[str] = None

    # ------------------------------------------------------------ slot form

    def to_slot(self) -> dict[str, Any]:
        """A JSON-safe dict (the slot value); ``None`` fields are left out."""
        raw = asdict(self)
        return {k: v for k, v in raw.items() if v is not None}

    @classmethod
    def from_slot(cls, value: Any) -> "ConversationState":
        """The state from a slot value; anything malformed is dropped field by field (never an error)."""
        if not isinstance(value, Mapping):
            return cls()
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {}
        for name in known:
            item = value.get(name)
            if item is None:
                continue
            if name == "example":
                example = _example(item)
                if example is not None:
                    clean[name] = example
            elif name in ("amount", "term", "days_overdue", "periods_repaid", "income", "monthly_debt"):
                number = _int(item)
                if number is not None:
                    clean[name] = number
            elif isinstance(item, str):
                clean[name] = item
        if clean.get("topic") not in TOPICS:
            clean.pop("topic", None)
        if clean.get("offer") not in OFFERS:
            clean.pop("offer", None)
        return cls(**clean)

    # ------------------------------------------------------------ updates

    def updated(self, **changes: Any) -> "ConversationState":
        """A copy with the given fields changed (``None`` values are ignored: they would forget a fact)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def answered(self, topic: Optional[str], offer: Optional[str] = None,
                 example: Optional[Example] = None) -> "ConversationState":
        """After an answer: its topic, the offer it leaves open (or none) and the example it showed."""
        return replace(self, topic=topic if topic in TOPICS else None,
                       offer=offer if offer in OFFERS else None,
                       example=example or self.example)

    def figures(self) -> tuple[Optional[int], Optional[int]]:
        """Amount and term, the state's own or the last example's."""
        ex = self.example
        return (self.amount or (ex.amount if ex else None), self.term or (ex.term if ex else None))


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _example(value: Any) -> Optional[Example]:
    if isinstance(value, Example):
        return value
    if not isinstance(value, Mapping):
        return None
    amount, term = _int(value.get("amount")), _int(value.get("term"))
    product, method = value.get("product"), value.get("method")
    if not (amount and term and isinstance(product, str) and isinstance(method, str)):
        return None
    apr = value.get("apr")
    apr = apr if isinstance(apr, str) and re.fullmatch(r"0(?:\.[0-9]{1,6})?", apr) else None
    return Example(product=product, amount=amount, term=term, method=method, apr=apr)
