"""Dialogue mechanics: fallback with the likeliest topics, offers accepted or declined,
bare data outside a form, and leaving a form."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import INTENT_LABELS, as_int, catalogue, latest_entity, polite_on_failure, say, service
from actions.handoff import hand_off
from actions.loan_ops import prepare_loan_form
from actions.needs import start_need_discovery
from actions.outreach import reply_to_followup
from actions.sms import OPERATION as SMS_OPERATION
from actions.sms import send_rules
from actions.voice import serve_pending
from credit.answers import clarify
from credit.answers import texts as answers
from credit.compliance import PRIVACY_NOTICE, asks_for_privacy_notice

NEXT_NONE = SlotSet("next_step", "none")


def _previous_user_intent(tracker: Tracker) -> str | None:
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")


class ActionFallback(Action):
    """First miss: "您是想问 A 还是 B？" when two intents were close, else the likeliest topics, as buttons.
    Second miss in a row: a human."""

    def name(self) -> Text:
        return "action_fallback"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if asks_for_privacy_notice(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text=PRIVACY_NOTICE)
            return []
        followup = reply_to_followup(dispatcher, tracker)  # "五星" answering a closed ticket's follow-up
        if followup is not None:
            return followup
        if _previous_user_intent(tracker) == "nlu_fallback":
            return hand_off(dispatcher, tracker, "连续两次未能理解客户问题")
        # two close intents: "您是想问 A 还是 B？"; nothing confident: the likeliest topics (credit/answers/clarify.py)
        say(dispatcher, clarify.fallback_reply(tracker.latest_message.get("intent_ranking") or [], INTENT_LABELS))
        return []


class ActionAcceptOffer(Action):
    sets_next_step = True

    def name(self) -> Text:
        return "action_accept_offer"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        served = serve_pending(dispatcher, tracker)  # "按1": the next point of the spoken answer just heard
        if served is not None:
            return [*served, NEXT_NONE]  # the answer's own offer stays for after its last point
        offer = tracker.get_slot("offer")
        events: List[EventType] = [SlotSet("offer", None)]
        if offer == SMS_OPERATION:
            return events + send_rules(dispatcher, tracker) + [NEXT_NONE]
        if offer == "progress_check":
            return events + [SlotSet("application_id", None), SlotSet("id_last4", None),
                             SlotSet("verify_status", None), SlotSet("next_step", "progress_form")]
        if offer in ("prepay_calc", "loan_details"):
            operation = "prepay_calc" if offer == "prepay_calc" else "details"
            return events + [SlotSet("loan_operation", operation),
                             *prepare_loan_form(dispatcher, tracker, operation), SlotSet("next_step", "loan_form")]
        if offer == "negotiation":
            ticket = service().create_ticket(tracker.sender_id, "negotiation",
                                             detail="客户申请逾期协商还款（由对话登记）", contact="registered",
                                             application_id=tracker.get_slot("verified_application"))
            say(dispatcher, answers.ticket_answer(catalogue(), ticket, contact="registered"), tracker)
            return events + [NEXT_NONE]
        if offer == "callback":  # outside the agents' hours, a verified customer: their registered phone
            ticket = service().create_ticket(tracker.sender_id, "callback", detail="客户在非服务时间申请人工回电",
                                             contact="registered",
                                             application_id=tracker.get_slot("verified_application"))
            say(dispatcher, answers.ticket_answer(catalogue(), ticket, contact="registered"), tracker)
            return events + [NEXT_NONE]
        if offer == "handoff":
            return events + hand_off(dispatcher, tracker, "客户接受转人工建议") + [NEXT_NONE]
        dispatcher.utter_message(response="utter_anything_else")
        return events + [NEXT_NONE]


class ActionDeclineOffer(Action):
    def name(self) -> Text:
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offer", None)]


class ActionHandleInform(Action):
    """Data given outside a form: an application or ticket number starts the progress check, a purpose
    or an income starts need discovery, amounts and terms get a worked example, anything else the menu."""

    sets_next_step = True

    def name(self) -> Text:
        return "action_handle_inform"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        followup = reply_to_followup(dispatcher, tracker)  # "4分" answering a closed ticket's follow-up
        if followup is not None:
            return followup + [NEXT_NONE]
        if latest_entity(tracker, "product"):  # "安家分期" answering "which product?" of a spoken answer
            served = serve_pending(dispatcher, tracker, product_only=True)
            if served is not None:
                return [*served, NEXT_NONE]
        if latest_entity(tracker, "application_id") or latest_entity(tracker, "ticket_number"):
            return [SlotSet("id_last4", None), SlotSet("verify_status", None), SlotSet("ticket_check", None),
                    SlotSet("next_step", "progress_form")]
        if latest_entity(tracker, "purpose") or latest_entity(tracker, "income"):
            # "装修用""月收入八千" out of the blue: what they want to borrow, asked before any product
            return start_need_discovery(dispatcher, tracker)
        amount, term = latest_entity(tracker, "amount"), latest_entity(tracker, "term")
        if amount or term:
            product = latest_entity(tracker, "product") or tracker.get_slot("product")
            say(dispatcher, answers.rate_answer(catalogue(), product, as_int(amount or tracker.get_slot("amount")),
                                                as_int(term or tracker.get_slot("term"))), tracker)
            return [NEXT_NONE]
        dispatcher.utter_message(response="utter_greet")
        return [NEXT_NONE]


class ActionStopForm(Action):
    def name(self) -> Text:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_form_stopped")
        return [SlotSet(name, None) for name in ("application_id", "id_last4", "otp_code", "verify_status",
                                                  "loan_operation", "complaint_detail", "contact_phone")]
