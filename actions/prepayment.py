"""Prepayment: the rules, and a calculator on figures the customer gives or on the verified loan."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    as_int,
    catalogue,
    latest_entity,
    other_lenders_named,
    polite_on_failure,
    reading_of,
    reads_aloud,
    remember,
    say,
    service,
    shown_example,
    speak,
)
from actions.loan_ops import strong_already
from actions.outreach import reply_to_notice
from actions.thread import answer_reading
from actions.voice import ask_of
from credit.answers import lender_replies
from credit.answers import texts as answers
from credit.voice import rules as voice_rules
from credit.voice import service as voice_service


class ActionPrepaymentInfo(Action):
    def name(self) -> Text:
        return "action_prepayment_info"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        replied = reply_to_notice(dispatcher, tracker)  # "已经还了" to a repayment notice
        if replied is not None:
            return replied
        app_id = tracker.get_slot("verified_application")
        if app_id and strong_already(tracker, app_id):
            # verified (with the SMS code) in this conversation: the payoff of THEIR loan, not the rules
            loan = service().get_loan_details(tracker.sender_id, app_id)
            if reads_aloud(tracker):
                speak(dispatcher, voice_service.loan_prepayment(catalogue(), loan), tracker)
            else:
                say(dispatcher, answers.loan_prepayment_answer(catalogue(), loan), tracker)
            return [SlotSet("offer", None)]
        reading = reading_of(tracker)  # periods repaid, a payoff month, another product (credit/dialogue)
        answered = answer_reading(dispatcher, tracker, reading, skip=("term_switch", "accept_offer"))
        if answered is not None:
            return answered
        product = latest_entity(tracker, "product") or reading.state.product
        amount = as_int(latest_entity(tracker, "amount"))
        term = as_int(latest_entity(tracker, "term"))
        example = reading.state.example
        if not (amount and term) and example is not None and reading.state.topic in ("rates", "methods"):
            # "那提前还呢" right after a worked example: the example's loan
            product, amount, term = product or example.product, example.amount, example.term
        if reads_aloud(tracker):  # heard: the point asked for first, the product in context only
            speak(dispatcher, voice_rules.prepayment(catalogue(), ask_of(tracker, other_lenders_named(tracker),
                                                                          amount, term)), tracker)
            return remember(reading.state, "prepayment", "prepay_calc",
                            shown_example(product, amount, term) if amount and term else None)
        reply = answers.prepayment_answer(catalogue(), product, amount, term)
        say(dispatcher, lender_replies.with_not_us(catalogue(), reply, other_lenders_named(tracker)), tracker)
        # offer to compute on the customer's own loan (needs the stronger check)
        example = shown_example(product, amount, term) if amount and term else None
        return remember(reading.state, "prepayment", "prepay_calc", example)
