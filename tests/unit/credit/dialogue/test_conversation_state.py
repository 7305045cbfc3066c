"""The conversation state and the extractors that fill it (credit/dialogue/state.py, facts.py)."""
from __future__ import annotations

import json

import pytest

from credit.dialogue.facts import read_facts, stated_rate
from credit.dialogue.state import ConversationState, Example
from credit.entities import extract_all


def test_state_round_trips_through_a_json_slot():
    state = ConversationState(product="anjia", amount=50000, term=24, method="equal_installment",
                              example=Example("anjia", 50000, 24, "equal_installment"), days_overdue=2,
                              periods_repaid=4, offer="calc_example", topic="rates")
    value = json.loads(json.dumps(state.to_slot()))
    assert ConversationState.from_slot(value) == state


@pytest.mark.parametrize("value", [None, "x", 3, [], {"amount": "lots", "topic": "nonsense", "offer": "free money",
                                                        "example": {"amount": 1}}])
def test_a_malformed_slot_value_is_dropped_field_by_field(value):
    state = ConversationState.from_slot(value)
    assert state.amount is None and state.topic is None and state.offer is None and state.example is None


def test_updated_never_forgets_a_fact_with_none():
    state = ConversationState(amount=30000).updated(amount=None, term=12)
    assert (state.amount, state.term) == (30000, 12)


def test_periods_repaid_are_not_a_term():
    facts = read_facts("借了3万，已经还了4期")
    assert (facts.amount, facts.periods_repaid, facts.term) == (30000, 4, None)
    # and the NLU entity extractor agrees: no 4-period term in that sentence
    assert not [s for s in extract_all("借了3万，已经还了4期") if s.entity == "term"]
    assert read_facts("借5万分12期").term == 12
    assert read_facts("按时还了六个月了").periods_repaid == 6


@pytest.mark.parametrize("text, days", [("逾期两天，已经还上了", 2), ("晚了3天才还", 3), ("逾期一周了", 7),
                                        ("5天没还了会怎样", 5), ("逾期了四十天", 40)])
def test_days_overdue(text, days):
    assert read_facts(text).days_overdue == days


@pytest.mark.parametrize("text, unit, annual", [
    ("别家年化才6%", "annual", 6.0), ("人家年利率5.5%", "annual", 5.5), ("别家月息1.5%", "monthly", 18.0),
    ("花呗日利率0.05%", "daily", 18.25), ("别家才8%", "unknown", None)])
def test_another_lenders_rate_keeps_its_unit(text, unit, annual):
    rate = stated_rate(text)
    assert rate is not None and rate.unit == unit
    assert rate.annual == (pytest.approx(annual) if annual is not None else None)


def test_payoff_month_and_method():
    facts = read_facts("第8个月提前还清要多少")
    assert facts.payoff_month == 8 and facts.term is None
    assert read_facts("换成等额本金").method == "equal_principal"
