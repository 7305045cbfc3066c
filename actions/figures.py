"""Answers on the customer's figures (the reading's own answers that compute): a worked example switched to
another term, amount or method, both methods compared, the customer's own rate, what is left after the periods
repaid, the longest term, affordability, and "好的，算一下".  Registered in actions/thread.py's HANDLERS."""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, remember, say, shown_example
from credit.answers import texts as answers
from credit.dialogue import asked, rules, stated
from credit.dialogue.resolver import Reading
from credit.dialogue.state import ConversationState, Example
from credit.needs.matching import serves


def _switch(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    cat, state = catalogue(), reading.state
    example = rules.example_for(cat, state, method=reading.facts.method, term=reading.facts.term)
    note = ""
    if example is None and reading.facts.term:  # a term the product does not offer: the product that does
        example, note = _other_product_for_term(state, reading.facts.term)
        state = state.updated(product=example.product) if example else state
    if example is None:
        return None
    if state.topic == "prepay_example" and reading.facts.payoff_month is None and reading.kind == "term_switch":
        return None
    if example == state.example and not note:  # "利息一共多少" on the example just shown: the figures, briefly
        say(dispatcher, rules.example_recap(cat, example), tracker)
        return remember(state, "rates", example=example)
    reply = rules.example_answer(cat, example)
    say(dispatcher, replace(reply, text=note + reply.text), tracker)
    return remember(state, "rates", example=example)



def _other_product_for_term(state: ConversationState, term: int) -> tuple[Optional[Example], str]:
    cat = catalogue()
    current = cat.find_product(state.product or (state.example.product if state.example else ""))
    amount = state.amount or (state.example.amount if state.example else None) or answers.DEFAULT_EXAMPLE_AMOUNT
    others = [p for p in cat.products if p.supports_term(term) and p.amount_in_range(amount)
              and (not state.purpose or serves(p, state.purpose))]
    if current is None or not others:
        return None, ""
    other = others[0]
    example = Example(product=other.code, amount=amount, term=term, method=other.example_method)
    return example, (f"{current.name}最长{current.term_max}期，不支持{term}期；{other.name}（{other.category}）"
                     f"可以分{term}期，按{other.name}给您算：\n")



def _methods(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    cat = catalogue()
    example = rules.example_for(cat, reading.state, method="equal_installment") or rules.example_for(
        cat, ConversationState(product="suixinjie"))
    assert example is not None
    say(dispatcher, rules.methods_compared_answer(cat, example), tracker)
    return remember(reading.state, "methods", example=example)



def stated_example(reading: Reading) -> Optional[Example]:
    """The customer's own loan at the rate they stated (their amount, term and method)."""
    s, apr = reading.state, stated.stated_apr(reading.facts.other_rate)
    if apr is None or not (s.amount and s.term) or s.term > 120:
        return None
    method = s.method if s.method in stated.STATED_METHODS else "equal_installment"
    return Example(product=catalogue().find_product(s.product or "") and s.product or catalogue().demo_loan.product,
                   amount=s.amount, term=s.term, method=method, apr=apr)



def _stated(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    example = stated_example(reading)
    if example is None:
        return None
    cat = catalogue()
    if reading.kind == "stated_methods":
        say(dispatcher, stated.methods_answer(cat, example), tracker)
        return remember(reading.state, "methods", example=example)
    say(dispatcher, stated.example_answer(cat, example, reading.state.income), tracker)
    return remember(reading.state, "rates", example=example)



def _remaining(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    example = reading.state.example
    if example is None or not example.apr:
        return None
    say(dispatcher, stated.remaining_answer(catalogue(), example, reading.state.periods_repaid), tracker)
    return remember(reading.state, "prepay_example")



def _method_question(dispatcher: CollectingDispatcher, tracker: Tracker,
                     reading: Reading) -> Optional[List[EventType]]:
    """A method named as a question: the switch when the example's product offers it, else whether it is offered."""
    s, method = reading.state, reading.facts.method or ""
    product = catalogue().find_product(s.product or (s.example.product if s.example else ""))
    if s.example is not None and (s.example.apr or (product is not None and product.supports_method(method))):
        return _switch(dispatcher, tracker, replace(reading, kind="method_switch"))
    say(dispatcher, asked.method_answer(catalogue(), method, product.code if product else None), tracker)
    return remember(s, "repayment", "calc_example")



def _calc(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    s = reading.state
    amount, term = s.figures()
    return calculate(dispatcher, tracker, s.updated(amount=amount, term=term))



def fitting_product(state: ConversationState) -> Optional[str]:
    """The product named, or the one that serves the purpose said (and the amount, if any)."""
    if state.product is not None or not state.purpose:
        return state.product
    fitting = [p for p in catalogue().products if serves(p, state.purpose)
               and (state.amount is None or p.amount_in_range(state.amount))]
    return fitting[0].code if fitting else None



def _longest(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    cat, state = catalogue(), reading.state
    product = fitting_product(state)
    say(dispatcher, rules.longest_term_answer(cat, product, state.amount), tracker)
    return remember(state.updated(product=product), "terms", "calc_example")



def _affordability(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    s = reading.state
    say(dispatcher, rules.affordability_answer(catalogue(), s.income or 0, s.amount or 0, fitting_product(s), s.term,
                                               s.monthly_debt), tracker)
    return remember(s, "eligibility")



def calculate(dispatcher: CollectingDispatcher, tracker: Tracker, state: ConversationState) -> List[EventType]:
    """"好的，算一下": the example on the customer's figures, or the one question that is missing."""
    amount, term = state.amount, state.term
    if not amount or not term:
        missing = "想借多少、分几期" if not amount and not term else ("想借多少" if not amount else "想分几期")
        dispatcher.utter_message(text=f"好的。请告诉我您{missing}，我马上帮您算每月还款和总利息。")
        return remember(state, "rates", "calc_example")
    example = rules.example_for(catalogue(), state)
    if example is None:
        say(dispatcher, answers.rate_answer(catalogue(), state.product, amount, term), tracker)
        return remember(state, "rates")
    say(dispatcher, rules.example_answer(catalogue(), example), tracker)
    return remember(state, "rates", example=example)



def _figures(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    s = reading.state
    amount, term = s.amount, s.term
    say(dispatcher, answers.rate_answer(catalogue(), s.product, amount, term), tracker)
    return remember(s, "rates", None if amount and term else "calc_example", shown_example(s.product, amount, term))



def _rate_question(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """A need with a rate question: the fitting product's rate on the figures said, then one question."""
    s = reading.state
    product = fitting_product(s)
    say(dispatcher, answers.rate_answer(catalogue(), product, s.amount, s.term), tracker)
    return remember(s.updated(product=product), "rates", None if s.amount and s.term else "calc_example",
                    shown_example(product, s.amount, s.term))

