"""Rate inquiry: annualised rate range plus a worked example for the customer's figures."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    as_int,
    catalogue,
    is_voice,
    latest_entity,
    other_lenders_named,
    polite_on_failure,
    question_text,
    reads_aloud,
    say,
    speak,
)
from actions.voice import ask_of, rate_form
from credit.answers import explain, lender_replies
from credit.answers import texts as answers


class ActionQuoteRate(Action):
    def name(self) -> Text:
        return "action_quote_rate"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        # figures from this message win; otherwise what the customer said earlier
        amount = latest_entity(tracker, "amount") or tracker.get_slot("amount")
        term = latest_entity(tracker, "term") or tracker.get_slot("term")
        product = latest_entity(tracker, "product") or tracker.get_slot("product")
        if reads_aloud(tracker):  # heard: the voice form (credit/voice)
            speak(dispatcher, rate_form(tracker, ask_of(tracker, other_lenders_named(tracker), amount, term)), tracker)
            return [SlotSet("offer", None)]
        voice = is_voice(tracker)
        text = question_text(tracker)  # a clarification button: the question it clarified
        explained = explain.explanation_answer(catalogue(), text, as_int(amount), as_int(term))
        if explained is not None:
            reply = explained
        elif explain.is_objection(text):
            reply = explain.objection_answer(catalogue(), text, product, as_int(amount), as_int(term))
        elif explain.is_fee_question(text):
            reply = explain.fees_answer(catalogue(), voice=voice)
        else:
            reply = answers.rate_answer(catalogue(), product, as_int(amount), as_int(term), voice=voice)
        say(dispatcher, lender_replies.with_not_us(catalogue(), reply, other_lenders_named(tracker), voice=voice),
            tracker)
        return [SlotSet("offer", None)]

