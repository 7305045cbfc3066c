"""Conversation start: the privacy notice on every channel."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import is_voice
from credit.compliance import PRIVACY_NOTICE, PRIVACY_NOTICE_VOICE


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(text=PRIVACY_NOTICE_VOICE if is_voice(tracker) else PRIVACY_NOTICE)
        return [SessionStarted(), SlotSet("complaint_count", 0), ActionExecuted("action_listen")]
