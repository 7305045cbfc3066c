"""Suggestions (intent give_suggestion): thanked, restated when short, and recorded for ops as a
ticket of kind ``suggestion``.  Not a complaint: no apology, no complaint form."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, is_voice, polite_on_failure, reading_of, say, service
from credit.answers.suggestions import suggestion_reply
from credit.dialogue.trust import closing_answer
from credit.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


class ActionRecordSuggestion(Action):
    def name(self) -> Text:
        return "action_record_suggestion"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if reading_of(tracker).kind == "closing":  # "那我再考虑考虑" read as a suggestion: a warm close, no ticket
            say(dispatcher, closing_answer(catalogue()), tracker)
            return []
        text = tracker.latest_message.get("text") or ""
        try:
            service().create_ticket(tracker.sender_id, "suggestion", detail=text or "（客户提出建议）")
        except ServiceUnavailable:  # the thanks still stands; ops lose one suggestion, logged
            logger.warning("could not record a suggestion for %s", tracker.sender_id)
        dispatcher.utter_message(text=suggestion_reply(catalogue().suggestion, text, voice=is_voice(tracker)))
        return []
