"""Rate inquiry: annualised rate range plus a worked example for the customer's figures."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, is_voice, latest_entity, other_lenders_named, polite_on_failure, say
from credit import answers, lender_replies


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
        voice = is_voice(tracker)
        if answers.is_fee_question(tracker.latest_message.get("text") or ""):
            reply = answers.fees_answer(catalogue(), voice=voice)
        else:
            reply = answers.rate_answer(catalogue(), product, _int(amount), _int(term), voice=voice)
        say(dispatcher, lender_replies.with_not_us(catalogue(), reply, other_lenders_named(tracker), voice=voice))
        return [SlotSet("offer", None)]


def _int(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
