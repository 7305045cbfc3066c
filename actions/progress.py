"""Progress: an application's stage after the identity check, or a ticket's state and deadline.

A ticket of this conversation is read back at once ("我的工单", or its number); a ticket opened
elsewhere only after four check digits (the phone number left on it, or the ID number of the
application it concerns), with the same words for an unknown number as for wrong digits."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    catalogue,
    channel_of,
    follow_up,
    polite_on_failure,
    reading_of,
    reads_aloud,
    remember,
    say,
    service,
    speak,
)
from actions.handoff import QUEUE_BY_INTENT
from actions.thread import answer_reading
from actions.validation_base import STOPPED, CreditFormValidation
from credit.answers import texts as answers
from credit.errors import ServiceUnavailable
from credit.text.numbers import extract_id_last4, extract_phone_last4
from credit.tickets.answers import asks_about_ticket, is_overdue, ticket_line, tickets_answer
from credit.views import TicketView
from credit.voice import service as voice_service

RESET_IDENTITY = [SlotSet("application_id", None), SlotSet("id_last4", None), SlotSet("verify_status", None),
                  SlotSet("ticket_number", None), SlotSet("ticket_check", None)]
TICKET_OK = "verified"


def _own_ticket(tracker: Tracker, number: str) -> Optional[TicketView]:
    return service().ticket_status(tracker.sender_id, number)


#: readings of a turn right after a progress answer that are about the application just checked
FOLLOW_UPS = ("impatience", "reapply", "progress_next")
#: questions read as a progress check that are no check ("投诉了多久能给我处理结果"): answered, no number asked
ANSWERED_INSTEAD = ("complaint_time", "service_hours", "hotline", "due_day", "holiday_due", "debit_failed",
                    "penalty_cap", "collateral", "certificate_delivery")


class ValidateProgressForm(CreditFormValidation):
    def name(self) -> Text:
        return "validate_progress_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        slots = [s for s in await super().required_slots(domain_slots, dispatcher, tracker, domain)
                 if s != "ticket_check"]
        number = tracker.get_slot("ticket_number")
        mine = not tracker.get_slot("application_id") and asks_about_ticket(tracker.latest_message.get("text") or "")
        if not slots or (number is None and not mine):
            return slots  # locked/unavailable, or an application's progress ("SQ… 的投诉" included)
        if number is None or tracker.get_slot("ticket_check") == TICKET_OK:
            return []  # "我的工单": this conversation's tickets; or checked already
        try:
            return [] if _own_ticket(tracker, number) is not None else ["ticket_check"]
        except ServiceUnavailable:
            return []

    async def extract_application_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        """"怎么还在审" "下一步要干啥" right after a progress answer: the application just checked, not the number
        again; "行，我回去准备下，到时候再来" read as a progress question: a warm close, no number asked."""
        if tracker.get_slot("application_id") or tracker.get_slot("requested_slot"):
            return {}
        reading = reading_of(tracker)
        if reading.kind == "closing" or reading.kind in ANSWERED_INSTEAD:
            answer_reading(dispatcher, tracker, reading)
            return {"verify_status": STOPPED}
        app_id = reading.state.verified_application
        if reading.kind not in FOLLOW_UPS or not app_id:
            return {}
        return {"application_id": app_id}

    def validate_ticket_check(self, slot_value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None or slot_value == TICKET_OK:
            return {"ticket_check": slot_value}
        text = str(slot_value)
        digits = extract_id_last4(text) or extract_phone_last4(text)
        if not digits:
            dispatcher.utter_message(response="utter_invalid_ticket_check")
            return {"ticket_check": None}
        try:
            lookup = service().verify_ticket(tracker.sender_id, tracker.get_slot("ticket_number"), digits)
        except ServiceUnavailable:
            return {"verify_status": "unavailable"}
        if lookup.result.status == "ok":
            return {"ticket_check": TICKET_OK}
        if lookup.result.status == "locked":
            return {"ticket_check": None, "verify_status": "locked"}
        # the same words whether the number is unknown or the digits are wrong
        dispatcher.utter_message(response="utter_ticket_check_failed", attempts_left=lookup.result.attempts_left)
        return {"ticket_check": None}


class ActionCheckProgress(Action):
    def name(self) -> Text:
        return "action_check_progress"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        status = tracker.get_slot("verify_status")
        app_id = tracker.get_slot("application_id")
        number = tracker.get_slot("ticket_number")
        if status == STOPPED:  # "我再想想" inside the form: already closed warmly
            pass
        elif status == "locked":
            dispatcher.utter_message(response="utter_verify_locked")
        elif status == "unavailable":
            dispatcher.utter_message(response="utter_service_unavailable")
        elif number is not None or (not app_id and asks_about_ticket(tracker.latest_message.get("text") or "")):
            self._tickets(dispatcher, tracker, number)
        elif status == "ok" and app_id:
            reading = reading_of(tracker)
            if reading.kind in FOLLOW_UPS and reading.state.verified_application == app_id:
                answered = answer_reading(dispatcher, tracker, reading)  # "怎么还在审" / "以后还能申请吗"
                if answered is not None:
                    return RESET_IDENTITY + answered
            view = service().get_progress(tracker.sender_id, app_id)
            if reads_aloud(tracker):
                speak(dispatcher, voice_service.progress(catalogue(), view), tracker)
            else:
                say(dispatcher, answers.progress_answer(view))
            follow_up(dispatcher, tracker)
            state = reading.state.updated(verified_application=app_id, product=view.product)
            topic = "declined" if view.stage in ("rejected", "declined") else "progress"
            return RESET_IDENTITY + remember(state, topic)
        else:
            dispatcher.utter_message(response="utter_service_unavailable")
        return RESET_IDENTITY

    @staticmethod
    def _tickets(dispatcher: CollectingDispatcher, tracker: Tracker, number: Optional[str]) -> None:
        svc, cat = service(), catalogue()
        now = svc.now()
        if number is None:
            tickets = [t for t in svc.list_tickets(tracker.sender_id) if t.kind != "suggestion"]
        elif tracker.get_slot("ticket_check") == TICKET_OK:
            tickets = [t for t in [svc.ticket_after_check(tracker.sender_id, number)] if t is not None]
        else:
            tickets = [t for t in [svc.ticket_status(tracker.sender_id, number)] if t is not None]
        say(dispatcher, tickets_answer(cat, tickets, now), tracker)
        late = [t for t in tickets if is_overdue(t, now)]
        if late:
            svc.record_handoff(tracker.sender_id, channel_of(tracker), QUEUE_BY_INTENT["complain"],
                               "工单超过承诺时间，客户查询时催办：" + "；".join(ticket_line(cat, t, now) for t in late))
        if tickets:
            follow_up(dispatcher, tracker)
