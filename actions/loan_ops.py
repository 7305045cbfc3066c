"""Loan details and loan actions (cancel, settlement certificate, prepayment on the real loan).

These need the stronger check: an SMS one-time code to the bound phone, or on WeChat
an OpenID bound to the customer (on 微信客服 a unionid bound to them, if that binding was verified)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    catalogue,
    channel_of,
    other_lenders_named,
    polite_on_failure,
    reading_of,
    reads_aloud,
    say,
    service,
    speak,
)
from actions.sms import OPERATION as SMS_OPERATION
from actions.sms import ask_consent
from actions.thread import answer_reading, resend_otp
from actions.validation_base import STOPPED, CreditFormValidation
from credit.answers import lender_replies
from credit.answers import texts as answers
from credit.errors import RateLimited, ServiceUnavailable
from credit.text.numbers import extract_otp
from credit.voice import service as voice_service

OPERATION_BY_INTENT = {
    "cancel_loan": "cancel",
    "request_settlement_certificate": "settlement",
}

RESET_LOAN_FORM = [SlotSet("application_id", None), SlotSet("id_last4", None), SlotSet("otp_code", None),
                   SlotSet("verify_status", None), SlotSet("loan_operation", None)]


def strong_already(tracker: Tracker, app_id: str) -> bool:
    svc = service()
    if svc.is_verified(tracker.sender_id, app_id, level="strong"):
        return True
    channel, _, raw = tracker.sender_id.partition(":")
    if channel_of(tracker) == "wx":
        return svc.strong_by_openid(tracker.sender_id, raw, app_id)
    if channel == "kf":  # 微信客服: the WeChat user by a verified unionid binding
        return svc.strong_by_wecom_kf(tracker.sender_id, raw, app_id)
    return False


class ValidateLoanForm(CreditFormValidation):
    def name(self) -> Text:
        return "validate_loan_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("verify_status") in ("locked", "unavailable", "otp_locked", STOPPED):
            return []
        if tracker.get_slot("loan_operation") == SMS_OPERATION:  # rules to the number on file: no SMS code
            return [s for s in domain_slots if s != "otp_code"]
        app_id = tracker.get_slot("application_id")
        if tracker.get_slot("verify_status") == "ok" and app_id and tracker.get_slot("otp_code") != "verified":
            try:
                if strong_already(tracker, app_id):
                    return [s for s in domain_slots if s != "otp_code"]
            except ServiceUnavailable:
                return []
        return domain_slots

    def validate_otp_code(self, slot_value: Any, dispatcher: CollectingDispatcher,
                          tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {"otp_code": None}
        if slot_value == "verified":
            return {"otp_code": "verified"}
        code = extract_otp(str(slot_value or ""))
        if not code:
            reading = reading_of(tracker)
            if reading.kind == "otp_missing":  # "没收到验证码": send it again (rate-limited)
                resend_otp(dispatcher, tracker, reading)
                return {"otp_code": None}
            stopped = self.understood(dispatcher, tracker)
            if stopped is not None:
                return {"otp_code": None, **stopped}
            dispatcher.utter_message(response="utter_otp_wrong")
            return {"otp_code": None}
        app_id = tracker.get_slot("application_id") or ""
        try:
            outcome = service().check_otp(tracker.sender_id, app_id, code)
            if outcome == "ok":
                return {"otp_code": "verified"}
            if outcome == "expired":
                service().send_otp(tracker.sender_id, app_id)
                dispatcher.utter_message(response="utter_otp_expired")
                return {"otp_code": None}
            if outcome == "locked":
                return {"otp_code": None, "verify_status": "otp_locked"}
        except ServiceUnavailable:
            return {"verify_status": "unavailable"}
        dispatcher.utter_message(response="utter_otp_wrong")
        return {"otp_code": None}


class ActionAskOtpCode(Action):
    """Sends the code the first time the form asks; a re-ask after a wrong code only asks."""

    def name(self) -> Text:
        return "action_ask_otp_code"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("requested_slot") == "otp_code":
            dispatcher.utter_message(response="utter_ask_otp_code")
            return []
        try:
            sent = service().send_otp(tracker.sender_id, tracker.get_slot("application_id") or "")
        except RateLimited:
            dispatcher.utter_message(response="utter_otp_rate_limited")
            return []
        dispatcher.utter_message(response="utter_otp_sent", phone_last4=sent.masked_phone[-4:])
        return []


class ActionPrepareLoanOp(Action):
    """Remembers what the customer wants done and reuses a verification still valid."""

    sets_next_step = True  # rules branch on next_step: the strong check, or not

    def name(self) -> Text:
        return "action_prepare_loan_op"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        if intent == "cancel_loan":  # "我再想想" is a hesitation, not a cancellation
            answered = answer_reading(dispatcher, tracker, skip=("accept_offer",))
            if answered is not None:
                return answered + [SlotSet("next_step", "none")]
        operation = OPERATION_BY_INTENT.get(intent, tracker.get_slot("loan_operation") or "details")
        if operation == "settlement":  # "结清证明多久能开出来": how long first, then the number is asked
            answer_reading(dispatcher, tracker, only=("certificate_delivery",))
        return [SlotSet("loan_operation", operation), *prepare_loan_form(dispatcher, tracker, operation),
                SlotSet("next_step", "loan_form")]


def prepare_loan_form(dispatcher: CollectingDispatcher, tracker: Tracker, operation: str) -> List[EventType]:
    intro = answers.Reply(answers.loan_operation_intro(catalogue(), operation))
    say(dispatcher, lender_replies.with_not_us(catalogue(), intro, other_lenders_named(tracker)))
    events: List[EventType] = [SlotSet("otp_code", None), SlotSet("verify_status", None), SlotSet("id_last4", None)]
    app_id = tracker.get_slot("verified_application")
    if app_id and service().is_verified(tracker.sender_id, app_id, level="basic"):
        events = [SlotSet("application_id", app_id), SlotSet("id_last4", "verified"),
                  SlotSet("verify_status", "ok"), SlotSet("otp_code", None)]
    return events


class ActionLoanOperation(Action):
    def name(self) -> Text:
        return "action_loan_operation"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        status = tracker.get_slot("verify_status")
        app_id = tracker.get_slot("application_id")
        operation = tracker.get_slot("loan_operation") or "details"
        svc = service()
        if status == STOPPED:  # "我再想想" inside the form: already closed warmly
            pass
        elif status == "locked":
            dispatcher.utter_message(response="utter_verify_locked")
        elif status == "otp_locked":
            dispatcher.utter_message(response="utter_otp_locked")
        elif status != "ok" or not app_id:
            dispatcher.utter_message(response="utter_service_unavailable")
        elif operation == "cancel":
            say(dispatcher, answers.cancel_answer(catalogue(), svc.request_cancel(tracker.sender_id, app_id)))
        elif operation == "settlement":
            say(dispatcher, answers.settlement_answer(
                catalogue(), svc.request_settlement_certificate(tracker.sender_id, app_id)))
        elif operation == SMS_OPERATION:  # verified: which rules to which number, and a yes first
            return RESET_LOAN_FORM + [SlotSet("verified_application", app_id),
                                      *ask_consent(dispatcher, tracker, app_id)]
        elif operation == "prepay_calc":
            loan = svc.get_loan_details(tracker.sender_id, app_id)
            if reads_aloud(tracker):
                speak(dispatcher, voice_service.loan_prepayment(catalogue(), loan), tracker)
            else:
                say(dispatcher, answers.loan_prepayment_answer(catalogue(), loan))
        else:
            loan = svc.get_loan_details(tracker.sender_id, app_id)
            if reads_aloud(tracker):
                speak(dispatcher, voice_service.loan_details(catalogue(), loan), tracker)
            else:
                say(dispatcher, answers.loan_details_answer(catalogue(), loan))
        keep = [SlotSet("verified_application", app_id)] if status == "ok" else []
        return RESET_LOAN_FORM + keep
