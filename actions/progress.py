"""Application progress: identity check, then the stage in plain words."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import follow_up, polite_on_failure, say, service
from actions.validation_base import CreditFormValidation
from credit import answers

RESET_IDENTITY = [SlotSet("application_id", None), SlotSet("id_last4", None), SlotSet("verify_status", None)]


class ValidateProgressForm(CreditFormValidation):
    def name(self) -> Text:
        return "validate_progress_form"


class ActionCheckProgress(Action):
    def name(self) -> Text:
        return "action_check_progress"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        status = tracker.get_slot("verify_status")
        app_id = tracker.get_slot("application_id")
        if status == "locked":
            dispatcher.utter_message(response="utter_verify_locked")
        elif status == "ok" and app_id:
            view = service().get_progress(tracker.sender_id, app_id)
            say(dispatcher, answers.progress_answer(view))
            follow_up(dispatcher, tracker)
        else:
            dispatcher.utter_message(response="utter_service_unavailable")
        return RESET_IDENTITY
