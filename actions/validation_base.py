"""Reusable form validation: identity fields shared by the progress and loan forms."""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import service
from credit.errors import ServiceUnavailable
from credit.text.numbers import extract_application_id, extract_id_last4


class CreditFormValidation(FormValidationAction):
    """Base for forms that ask for an application number and identity check.

    Verification happens as soon as the ID digits arrive, so a failed check is answered
    at once and the same message is given whether or not the number exists.
    Subclasses set `name()`. The slot `verify_status` ends the form early when locked.
    """

    @abstractmethod
    def name(self) -> Text:
        """The form's validation action name, e.g. `validate_progress_form`."""

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("verify_status") in ("locked", "unavailable"):
            return []
        return domain_slots

    def validate_application_id(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:  # a reset by an action, not customer input: the form will ask
            return {"application_id": None}
        app_id = extract_application_id(str(slot_value or ""), allow_bare=True)
        if not app_id:
            dispatcher.utter_message(response="utter_invalid_application_id")
            return {"application_id": None}
        result: Dict[Text, Any] = {"application_id": app_id}
        try:
            if service().is_verified(tracker.sender_id, app_id, level="basic"):
                # verified within the last 10 minutes: don't ask the ID digits again
                result.update({"id_last4": "verified", "verify_status": "ok"})
        except ServiceUnavailable:
            return {"verify_status": "unavailable"}
        return result

    def validate_id_last4(self, slot_value: Any, dispatcher: CollectingDispatcher,
                          tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {"id_last4": None}
        if slot_value == "verified" and tracker.get_slot("verify_status") == "ok":
            return {"id_last4": "verified"}
        last4 = extract_id_last4(str(slot_value or ""))
        if not last4:
            dispatcher.utter_message(response="utter_invalid_id_last4")
            return {"id_last4": None}
        app_id = tracker.get_slot("application_id")
        try:
            result = service().verify_identity(tracker.sender_id, app_id or "", last4)
        except ServiceUnavailable:
            return {"verify_status": "unavailable"}
        if result.status == "ok":
            return {"id_last4": "verified", "verify_status": "ok", "verified_application": app_id}
        if result.status == "locked":
            return {"id_last4": None, "verify_status": "locked"}
        dispatcher.utter_message(response="utter_verify_failed", attempts_left=result.attempts_left)
        return {"id_last4": None}
