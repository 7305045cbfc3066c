"""Risk signals in a customer's own words, as a family (the catalogue section ``risk_signals:``).

A good 信贷客服 notices a new job, many lenders, many credit enquiries, high debt or a vague
repayment plan, and neither refuses nor promises: she explains honestly how it is assessed,
asks at most one polite verifying question, and records the signal for the risk team.  The
signals, the words that reveal them, the reply and the one question are business data that
ops edit, so they live in ``credit/catalogue.yml``; this module holds their schema and the
matcher.  Urgency, repeated pressing and upfront-fee fraud keep their own intents and replies
(``urgent_need``, ``report_fraud``); they are recorded under their codes too.

The matcher looks at the raw text (width-folded, traditional folded as for other lenders), so
every finding has evidence: the words that revealed it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from credit.catalogue.fields import Code, Patterns, Schema, Text
from credit.catalogue.other_lenders import fold
from credit.text.halfwidth import normalize


class RiskSignal(Schema):
    code: Code  # the reason code recorded on the risk event
    name: Text  # what ops see
    patterns: Patterns  # regular expressions on the customer's text
    reply: Text  # honest, non-judgemental: how it is assessed
    question: Text  # at most one polite verifying question


@dataclass(frozen=True)
class Finding:
    signal: RiskSignal
    evidence: str  # the words that revealed it, as the customer wrote them


class Pressing(Schema):
    """Asking again and again to hurry: noticed from the conversation, not from words."""

    code: Code
    name: Text
    reply: Text
    question: Text


class RiskSignals(Schema):
    signals: tuple[RiskSignal, ...]
    intro: Text  # opens the reply when a signal was found
    pressing: Pressing

    def find(self, text: Optional[str]) -> list[Finding]:
        """Every signal in ``text``, once each, in catalogue order."""
        if not text:
            return []
        folded = fold(normalize(text))
        found = []
        for signal in self.signals:
            for pattern in signal.patterns:
                match = re.search(pattern, folded)
                if match:
                    found.append(Finding(signal, text[match.start():match.end()]))
                    break
        return found
