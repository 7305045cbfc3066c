"""The general answer kinds by name: what rebuilds a form once the caller chose a product by key, and what
the tests render for every kind.  A kind here depends only on the catalogue and an :class:`~credit.voice.turns.Ask`
(the personal answers — progress, a loan — are built from service views and never need rebuilding)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

from credit.catalogue.loader import Catalogue
from credit.voice import money, rules
from credit.voice.turns import Ask, Turn, VoiceForm, first_turn

Builder = Callable[[Catalogue, Ask], VoiceForm]

KINDS: Dict[str, Builder] = {
    "prepayment": rules.prepayment,
    "repayment": rules.repayment,
    "overdue": rules.overdue,
    "eligibility": rules.eligibility,
    "limits": rules.limits,
    "account": rules.account,
    "rates": money.rates,
    "fees": money.fees,
    "methods": money.methods,
}
#: the topic intents answered by ``credit.answers.texts.topic_answer``, by kind
TOPIC_KINDS = {"ask_repayment": "repayment", "ask_overdue": "overdue", "ask_loan_limit": "limits",
               "ask_eligibility": "eligibility", "account_service": "account"}


def build(cat: Catalogue, kind: str, ask: Ask) -> Optional[VoiceForm]:
    builder = KINDS.get(kind)
    return builder(cat, ask) if builder is not None else None


def with_product(cat: Catalogue, state: Mapping[str, Any], product: Optional[str]) -> Optional[Turn]:
    """The turn after the caller chose ``product`` for the form of ``state`` (its question, figures and what
    was heard kept; the point that needed the product said first); without one, the question again."""
    args = dict(state.get("args") or {})
    ask = Ask(str(args.get("question") or ""), product, args.get("amount"), args.get("term"))
    form = build(cat, str(state.get("kind") or ""), ask)
    if form is None:
        return None
    return first_turn(form, ask.question, list(state.get("heard") or []), state.get("focus"))


__all__ = ["KINDS", "TOPIC_KINDS", "build", "with_product"]
