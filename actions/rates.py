"""Rate inquiry: annualised rate range plus a worked example for the customer's figures."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    catalogue,
    is_voice,
    other_lenders_named,
    polite_on_failure,
    question_text,
    reading_of,
    reads_aloud,
    remember,
    say,
    shown_example,
    speak,
)
from actions.thread import answer_reading
from actions.voice import ask_of, rate_form
from credit.answers import explain, lender_replies
from credit.answers import texts as answers


class ActionQuoteRate(Action):
    def name(self) -> Text:
        return "action_quote_rate"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reading = reading_of(tracker)  # one reading of the turn (credit/dialogue/resolver.py)
        if not is_voice(tracker):
            answered = answer_reading(dispatcher, tracker, reading)
            if answered is not None:
                return answered
        # figures from this message win; otherwise what the customer said earlier (the conversation state)
        state = reading.state
        amount, term = state.figures()
        product = state.product
        if reads_aloud(tracker):  # heard: the voice form (credit/voice)
            speak(dispatcher, rate_form(tracker, ask_of(tracker, other_lenders_named(tracker), amount, term)), tracker)
            return remember(state, "rates", None, shown_example(product, amount, term) if amount and term else None)
        voice = is_voice(tracker)
        text = question_text(tracker)  # a clarification button: the question it clarified
        explained = explain.explanation_answer(catalogue(), text, amount, term)
        example = None
        if explained is not None:
            reply = explained
        elif reading.kind in ("objection", "rate_complaint"):
            reply = explain.objection_answer(catalogue(), text, product, amount, term)
        elif reading.kind == "fee_question":
            reply = explain.fees_answer(catalogue(), voice=voice)
        else:
            reply = answers.rate_answer(catalogue(), product, amount, term, voice=voice)
            example = shown_example(product, amount, term)
        say(dispatcher, lender_replies.with_not_us(catalogue(), reply, other_lenders_named(tracker), voice=voice),
            tracker)
        return remember(state, "rates", "calc_example" if not (amount and term) else None, example)
