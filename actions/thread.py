"""The conversation's thread in the Rasa glue: the state in its slot, the resolver's reading of the turn, and the
answers that the reading itself gives (credit/dialogue).  Every entry action asks :func:`answer_reading` first; it
answers and returns the events, or returns None and the action answers as before, reading the same
:class:`~credit.dialogue.resolver.Reading` (never the raw text) for its own decisions."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, question_text, say, service
from credit.answers import texts as answers
from credit.dialogue import asked, rules, stated, trust
from credit.dialogue.resolver import Reading, resolve
from credit.dialogue.state import ConversationState, Example
from credit.errors import RateLimited, ServiceUnavailable
from credit.needs.matching import serves

STATE_SLOT = "dialogue_state"
#: accepts an open offer: registered by actions.dialogue, which owns the offers (it imports this module, and the
#: offers need the hand-off and the loan form, which do too: importing it here would make a cycle)
OFFER_ACCEPTORS: List[Callable[[CollectingDispatcher, Tracker, Optional[str]], List[EventType]]] = []
FORMS = ("progress_form", "loan_form")
_REPAID_WORDS = re.compile(r"还上|还了|已还|还清|补上|已经还")


def state_of(tracker: Tracker) -> ConversationState:
    """The state before this turn; the entity-filled slots (product, amount, term) are at least as recent."""
    state = ConversationState.from_slot(tracker.get_slot(STATE_SLOT))
    term = _int(tracker.get_slot("term"))
    shortest = min(p.term_min for p in catalogue().products)
    state = state.updated(product=tracker.get_slot("product"), amount=_int(tracker.get_slot("amount")),
                          term=term if term and term >= shortest else None,  # "头一个月" is no term
                          verified_application=tracker.get_slot("verified_application"))
    return replace(state, offer=tracker.get_slot("offer"))


def _int(value: Any) -> Optional[int]:
    try:
        number = int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number and number > 0 else None


def reading_of(tracker: Tracker) -> Reading:
    """The resolver's reading of the latest message against the state before it."""
    message = tracker.latest_message or {}
    form = (tracker.active_loop or {}).get("name")
    # a clarification button ("/ask_overdue") is read as the question it clarified
    return resolve(question_text(tracker), (message.get("intent") or {}).get("name"), state_of(tracker),
                   form=form, requested_slot=tracker.get_slot("requested_slot") if form else None)


def remember(state: ConversationState, topic: Optional[str], offer: Optional[str] = None,
             example: Optional[Example] = None) -> List[EventType]:
    """The state after an answer: its topic, the open offer (mirrored in the ``offer`` slot) and its example."""
    new = state.answered(topic, offer, example)
    return [SlotSet(STATE_SLOT, new.to_slot()), SlotSet("offer", new.offer)]


def shown_example(product: Optional[str], amount: Optional[int], term: Optional[int]) -> Optional[Example]:
    """The example a rate answer showed for these figures (None when they do not fit the product)."""
    cat = catalogue()
    p = cat.find_product(product or "") or cat.product(cat.demo_loan.product)
    amount, term = amount or answers.DEFAULT_EXAMPLE_AMOUNT, term or answers.DEFAULT_EXAMPLE_TERM
    if not (p.amount_in_range(amount) and p.supports_term(term)):
        return None
    return Example(product=p.code, amount=amount, term=term, method=p.example_method)


# ------------------------------------------------------------------ handlers

Handler = Callable[[CollectingDispatcher, Tracker, Reading], Optional[List[EventType]]]


def _reply(topic: str, build: Callable[[Reading], Any], offer: Optional[str] = None) -> Handler:
    def handle(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
        reply = build(reading)
        if reply is None:
            return None
        say(dispatcher, reply, tracker)
        return remember(reading.state, topic, offer)
    return handle


def _overdue(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    days = reading.facts.days_overdue or 0
    repaid = bool(_REPAID_WORDS.search(tracker.latest_message.get("text") or ""))
    say(dispatcher, rules.overdue_days_answer(catalogue(), days, repaid), tracker)
    needs_help = not repaid and days > catalogue().overdue.grace_days
    return remember(reading.state, "overdue", "negotiation" if needs_help else None)


def _payoff(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    example = reading.state.example
    if example is None:
        return None
    say(dispatcher, rules.payoff_answer(catalogue(), example, reading.facts.payoff_month or 1), tracker)
    return remember(reading.state, "prepay_example")


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
    say(dispatcher, rules.affordability_answer(catalogue(), s.income or 0, s.amount or 0, s.product, s.term), tracker)
    return remember(s, "eligibility")


def _impatience(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    app_id = reading.state.verified_application
    if not app_id:
        return None
    try:
        if not service().is_verified(tracker.sender_id, app_id, level="basic"):
            return None
        view = service().get_progress(tracker.sender_id, app_id)
    except ServiceUnavailable:
        return None
    if view.stage in ("rejected", "declined"):
        say(dispatcher, trust.reapply_answer(catalogue()), tracker)
        return remember(reading.state, "declined")
    say(dispatcher, trust.impatience_answer(view.stage_label, view.expected, view.stage in ("submitted", "reviewing")),
        tracker)
    return remember(reading.state, "progress")


def _product_switch(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    cat, s = catalogue(), reading.state
    focused = rules.product_topic_answer(cat, s.product or "", s.topic)
    if focused is not None:  # the rules answer just given, for this product
        say(dispatcher, focused, tracker)
        return remember(s, s.topic, "prepay_calc" if s.topic == "prepayment" else None)
    amount, term = s.figures()
    say(dispatcher, answers.rate_answer(cat, s.product, amount, term), tracker)
    return remember(s, "rates", "calc_example", shown_example(s.product, amount, term))


def _accept(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> Optional[List[EventType]]:
    """"行，帮我算算" classified as anything but affirm: the open offer is accepted all the same; a form it needs is
    started with a FollowupAction (the affirm rules start it by ``next_step`` only after affirm)."""
    if reading.state.offer == "calc_example":
        return calculate(dispatcher, tracker, reading.state)
    if not OFFER_ACCEPTORS:
        return None
    events = OFFER_ACCEPTORS[0](dispatcher, tracker, reading.state.offer)
    forms = [e.get("value") for e in events if e.get("name") == "next_step" and e.get("value") in FORMS]
    return events + ([FollowupAction(forms[-1])] if forms else [])


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


def _fraud_report(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """A fraud report that landed elsewhere (a complaint, a topic): recorded and answered as one."""
    service().record_risk_event(tracker.sender_id, "fraud_report", tracker.latest_message.get("text") or "")
    say(dispatcher, answers.fraud_answer(catalogue()), tracker)
    return remember(reading.state, "fraud", "handoff")


def _wait(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    say(dispatcher, trust.wait_answer(), tracker)
    return remember(reading.state, reading.state.topic, reading.state.offer)  # the thread is unchanged


def resend_otp(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> List[EventType]:
    """"没收到验证码" while the loan form waits for it: sent again (the gateway's rate limit applies)."""
    try:
        sent = service().send_otp(tracker.sender_id, tracker.get_slot("application_id") or "")
    except RateLimited:
        dispatcher.utter_message(response="utter_otp_rate_limited")
        return []
    say(dispatcher, trust.otp_resent_answer(sent.masked_phone[-4:]))
    return []


HANDLERS: Dict[str, Handler] = {
    "usury": _reply("trust", lambda r: trust.usury_answer(catalogue())),
    "third_party": _reply("trust", lambda r: trust.third_party_answer(catalogue())),
    "credit_repair": _reply("trust", lambda r: trust.credit_repair_answer(catalogue())),
    "closing": _reply("closing", lambda r: trust.closing_answer(catalogue())),
    "fraud_report": _fraud_report,
    "scammed": _reply("fraud", lambda r: trust.scammed_answer(catalogue()), "handoff"),
    "legitimacy": _reply("trust", lambda r: trust.legitimacy_answer(catalogue())),
    "data_safety": _reply("trust", lambda r: trust.data_safety_answer(catalogue())),
    "why_verify": _reply("trust", lambda r: trust.why_verify_answer()),
    "not_applied": _reply("eligibility", lambda r: trust.not_applied_answer()),
    "wait": _wait,
    "figures": _figures,
    "how_to_apply": _reply("eligibility", lambda r: trust.how_to_apply_answer(catalogue())),
    "rate_question": _rate_question,
    "otp_missing": resend_otp,
    "lost_application_id": _reply("progress", lambda r: trust.lost_application_id_answer(), "progress_check"),
    "hotline": _reply("handoff", lambda r: trust.hotline_answer(catalogue())),
    "overdue_days": _overdue,
    "payoff_month": _payoff,
    "periods_fee": _reply("prepayment", lambda r: rules.periods_fee_answer(
        catalogue(), r.facts.periods_repaid or 0, r.state.product,
        rules.example_for(catalogue(), r.state) if r.state.amount and r.state.term else None), "prepay_calc"),
    "payout_time": _reply("eligibility", lambda r: rules.payout_time_answer(catalogue(), fitting_product(r.state))),
    "max_amount": _reply("limit", lambda r: rules.max_amount_answer(catalogue(), r.state.product)),
    "other_rate": _reply("rates", lambda r: rules.other_rate_answer(catalogue(), r.facts.other_rate, r.state.product),
                         "calc_example"),
    "methods_compared": _methods,
    "stated_example": _stated,
    "stated_methods": _stated,
    "stated_penalty": _reply("overdue", lambda r: stated.penalty_answer(catalogue(), r.facts.other_rate)
                             if r.facts.other_rate else None),
    "remaining": _remaining,
    "grace": _reply("overdue", lambda r: asked.grace_answer(catalogue()), "negotiation"),
    "shortest_term": _reply("terms", lambda r: asked.shortest_term_answer(catalogue(), fitting_product(r.state))),
    "lowest_rate": _reply("rates", lambda r: asked.lowest_rate_answer(catalogue(), r.state.product), "calc_example"),
    "products": _reply("rates", lambda r: asked.products_answer(catalogue())),
    "product_eligibility": _reply("eligibility", lambda r: rules.product_topic_answer(
        catalogue(), r.state.product or "", "eligibility")),
    "documents": _reply("eligibility", lambda r: asked.documents_answer(catalogue(), r.text)),
    "method_question": _method_question,
    "calc": _calc,
    "full_number": _reply("complaint", lambda r: asked.full_number_answer(), "handoff"),
    "all_fees": _reply("rates", lambda r: asked.all_fees_answer(catalogue())),
    "x_digit": _reply("progress", lambda r: asked.x_digit_answer()),
    "channels": _reply("handoff", lambda r: asked.channels_answer(catalogue())),
    "affordability": _affordability,
    "capacity": _reply("eligibility", lambda r: rules.capacity_answer(catalogue(), r.state.income or 0,
                                                                      r.state.monthly_debt, r.state.product)),
    "longest_term": _longest,
    "impatience": _impatience,
    "reapply": _reply("declined", lambda r: trust.reapply_answer(catalogue())),
    "method_switch": _switch,
    "term_switch": _switch,
    "product_switch": _product_switch,
    "accept_offer": _accept,
    "rate_complaint": _reply("rates", lambda r: rules.rate_complaint_answer(catalogue(), r.state.product),
                             "calc_example"),
}


def answer_reading(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Optional[Reading] = None,
                   skip: tuple[str, ...] = ()) -> Optional[List[EventType]]:
    """The reading's own answer and the events that remember it, or None when the intent's answer applies."""
    reading = reading or reading_of(tracker)
    handler = HANDLERS.get(reading.kind)
    if handler is None or reading.kind in skip:
        return None
    return handler(dispatcher, tracker, reading)
