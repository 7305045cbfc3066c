"""Reusable form validation: identity fields shared by the progress and loan forms."""
from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import catalogue, reading_of, say, service
from actions.thread import answer_reading
from credit.answers import texts as answers
from credit.dialogue.resolver import Reading
from credit.errors import ServiceUnavailable
from credit.replies import Reply
from credit.text.numbers import extract_application_id, extract_id_last4, extract_phone_last4

STOPPED = "stopped"  # the customer closed the conversation inside the form ("我再想想"): the form ends quietly


ID_WORDS = re.compile(r"身份证|证件|后四位|后4位|尾号|末四位")
#: a question of these intents inside an identity form is answered, and the form asks again
DETOUR_INTENTS = ("ask_prepayment", "ask_overdue", "ask_repayment", "ask_loan_limit", "ask_eligibility",
                  "ask_interest_rate")


def topic_detour(dispatcher: CollectingDispatcher, tracker: Tracker, reading: Reading) -> bool:
    """"顺便问一句，提前还款收费吗" while the form waits for a number: the topic's answer (the form resumes)."""
    intent = tracker.latest_message.get("intent") or {}
    text = latest_text(tracker)
    if intent.get("name") not in DETOUR_INTENTS or (intent.get("confidence") or 0) < 0.5 \
            or re.search(r"[0-9]{4}|SQ", text, flags=re.IGNORECASE):
        return False
    cat, s = catalogue(), reading.state
    if intent["name"] == "ask_prepayment":
        reply = answers.prepayment_answer(cat, s.product, None, None)
    elif intent["name"] == "ask_interest_rate":
        reply = answers.rate_answer(cat, s.product, s.amount, s.term)
    else:
        reply = answers.topic_answer(cat, intent["name"], text)
    say(dispatcher, Reply(reply.text), tracker)  # no buttons: the form's question follows
    return True


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def id_digits_with(tracker: Tracker, app_id: str) -> Optional[str]:
    """The ID's last 4 said with the application number (or held from before it), if any."""
    held = tracker.get_slot("id_last4")
    if held and held != "verified" and extract_id_last4(str(held)):
        return extract_id_last4(str(held))
    text = latest_text(tracker)
    if app_id not in text.upper() or extract_phone_last4(text, strict_context=True):
        return None  # "SQ… 手机尾号5678" names the phone; a bare "SQ… 3578" is the ID's last 4 the form asks for
    rest = re.sub(re.escape(app_id), " ", text, flags=re.IGNORECASE)
    return extract_id_last4(rest)


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
        if tracker.get_slot("verify_status") in ("locked", "unavailable", STOPPED):
            return []
        return domain_slots

    def validate_application_id(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:  # a reset by an action, not customer input: the form will ask
            return {"application_id": None}
        app_id = extract_application_id(str(slot_value or ""), allow_bare=True)
        if not app_id:
            tails = extract_phone_last4(str(slot_value)), extract_id_last4(str(slot_value))
            if all(tails):  # the alternative to a forgotten number: the mobile's and the ID's last 4 digits
                return self.by_tails(dispatcher, tracker, *tails)
            if tails[1] and not tails[0] and ID_WORDS.search(latest_text(tracker)):
                # "身份证后四位1234" before the number: kept for the check, the number asked for
                dispatcher.utter_message(text="身份证后四位收到了。还需要您的申请编号（SQ开头加12位数字），"
                                              "在申请短信或APP「我的申请」里可以找到。")
                return {"application_id": None, "id_last4": tails[1]}
            # a message that is not a number is understood first ("申请号找不到了", "我再想想")
            stopped = self.understood(dispatcher, tracker)
            if stopped is not None:
                return {"application_id": None, **stopped}
            dispatcher.utter_message(response="utter_invalid_application_id")
            return {"application_id": None}
        result: Dict[Text, Any] = {"application_id": app_id}
        try:
            if service().is_verified(tracker.sender_id, app_id, level="basic"):
                # verified within the last 10 minutes: don't ask the ID digits again
                result.update({"id_last4": "verified", "verify_status": "ok"})
                return result
        except ServiceUnavailable:
            return {"verify_status": "unavailable"}
        last4 = id_digits_with(tracker, app_id)
        if last4:  # "SQ… 后四位1234" in one message (or the digits said first): checked at once
            return {"application_id": app_id, **self.check_id(dispatcher, tracker, app_id, last4)}
        return result

    @staticmethod
    def check_id(dispatcher: CollectingDispatcher, tracker: Tracker, app_id: str, last4: str) -> Dict[Text, Any]:
        """The ID's last 4 against the application: the slots after the check (the same lockout every time)."""
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

    def validate_id_last4(self, slot_value: Any, dispatcher: CollectingDispatcher,
                          tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {"id_last4": None}
        if slot_value == "verified" and tracker.get_slot("verify_status") == "ok":
            return {"id_last4": "verified"}
        last4 = extract_id_last4(str(slot_value or ""))
        if not last4:
            stopped = self.understood(dispatcher, tracker)  # "为什么要身份证" "我再想想": understood first
            if stopped is not None:
                return {"id_last4": None, **stopped}
            dispatcher.utter_message(response="utter_invalid_id_last4")
            return {"id_last4": None}
        return self.check_id(dispatcher, tracker, tracker.get_slot("application_id"), last4)

    @staticmethod
    def by_tails(dispatcher: CollectingDispatcher, tracker: Tracker, phone4: str, id4: str) -> Dict[Text, Any]:
        """The mobile's and the ID's last 4 instead of the number, same lockout (credit/verification.py)."""
        try:
            result, app_id = service().verify_by_tails(tracker.sender_id, phone4, id4)
        except ServiceUnavailable:
            return {"application_id": None, "verify_status": "unavailable"}
        if result.status == "ok" and app_id:
            return {"application_id": app_id, "id_last4": "verified", "verify_status": "ok",
                    "verified_application": app_id}
        if result.status == "locked":
            return {"application_id": None, "verify_status": "locked"}
        dispatcher.utter_message(response="utter_verify_failed", attempts_left=result.attempts_left)
        return {"application_id": None}

    @staticmethod
    def understood(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any] | None:
        """A message that is not the slot's value, answered by its reading; None when it has none.  A closing
        ends the form quietly (``verify_status`` STOPPED); anything else leaves the form to ask again."""
        reading = reading_of(tracker)
        if reading.kind == "none":
            return {} if topic_detour(dispatcher, tracker, reading) else None
        if not reading.answered_here or reading.kind in ("accept_offer", "impatience", "otp_missing"):
            return None
        if answer_reading(dispatcher, tracker, reading) is None:
            return None
        stops = ("closing", "not_applied", "stop_and_ask", "id_unavailable")
        return {"verify_status": STOPPED} if reading.kind in stops else {}  # "wait": ask again
