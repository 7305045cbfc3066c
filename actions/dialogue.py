"""Dialogue mechanics: fallback with the likeliest topics, offers accepted or declined,
bare data outside a form, and leaving a form."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    INTENT_LABELS,
    as_int,
    catalogue,
    is_voice,
    latest_entity,
    polite_on_failure,
    reading_of,
    remember,
    say,
    service,
    shown_example,
    state_of,
)
from actions.figures import calculate
from actions.handoff import hand_off
from actions.loan_ops import prepare_loan_form
from actions.needs import start_need_discovery
from actions.outreach import reply_to_followup
from actions.sms import OPERATION as SMS_OPERATION
from actions.sms import send_rules
from actions.thread import OFFER_ACCEPTORS, answer_reading
from actions.voice import serve_pending
from credit.answers import clarify
from credit.answers import texts as answers
from credit.compliance import PRIVACY_NOTICE, asks_for_privacy_notice
from credit.dialogue.trust import closing_answer

NEXT_NONE = SlotSet("next_step", "none")
#: readings that depend on the thread, answered even when the model found two topics close
THREAD_KINDS = ("accept_offer", "closing", "calc", "wait", "figures", "term_switch", "method_switch",
                "product_switch", "stray_code", "impatience", "progress_next", "reapply", "police")
# a number sent with the wish to withdraw it ("申请撤了吧 编号SQ…" "SQ… 这个帮我取消")
CANCEL_WORDS = re.compile(r"取消|撤(?:了|销|回|掉|下)|不要了|不借了|不办了|不想要了")


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
        ranking = tracker.latest_message.get("intent_ranking") or []
        # two close topics ("每个月几号扣款，还有晚几天还会怎么样"): both offered, not one of them answered; a turn
        # read against the thread ("行，帮我算算" "我再想想") is answered as before
        two_topics = clarify.ambiguous_pair(ranking, INTENT_LABELS) is not None
        answered = answer_reading(dispatcher, tracker, only=THREAD_KINDS if two_topics else ())
        if answered is not None:
            return answered
        if latest_entity(tracker, "application_id") and not tracker.active_loop.get("name"):
            # "SQ202611150003 结果出来没" understood only by its number: that application's progress, verified
            return [SlotSet("id_last4", None), SlotSet("verify_status", None), SlotSet("ticket_check", None),
                    FollowupAction("progress_form")]
        if _previous_user_intent(tracker) == "nlu_fallback":
            return hand_off(dispatcher, tracker, "连续两次未能理解客户问题")
        # two close intents: "您是想问 A 还是 B？"; nothing confident: the likeliest topics (credit/answers/clarify.py)
        say(dispatcher, clarify.fallback_reply(ranking, INTENT_LABELS))
        return []


#: readings of an "affirm" turn that answer something other than the open offer
NOT_A_YES = ("closing", "product_switch", "term_switch", "method_switch")


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
        reading = reading_of(tracker)
        # "好的，那36期呢" with no offer open; with one open, "行，我回去准备下，到时候再来" is a close and "那经营贷的
        # 呢" a question about another product, not a yes
        if offer is None or reading.kind in NOT_A_YES:
            answered = answer_reading(dispatcher, tracker, reading)
            if answered is not None:
                return answered + [NEXT_NONE]
        return accept_offer(dispatcher, tracker, offer)


def accept_offer(dispatcher: CollectingDispatcher, tracker: Tracker, offer: str | None) -> List[EventType]:
    """The open offer accepted; a form it needs is named in ``next_step`` (the rules after affirm start it)."""
    events: List[EventType] = [SlotSet("offer", None)]
    if offer == "calc_example":  # "好的，算一下" after an offer to calculate
        return calculate(dispatcher, tracker, state_of(tracker)) + [NEXT_NONE]
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


OFFER_ACCEPTORS.append(accept_offer)  # "行，帮我算算" read as acceptance wherever the turn lands (actions/thread.py)


class ActionDeclineOffer(Action):
    def name(self) -> Text:
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if reading_of(tracker).kind == "closing":  # "不用了，我再想想": a warm close, not "anything else?"
            say(dispatcher, closing_answer(catalogue()), tracker)
        else:
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
        reading = reading_of(tracker)  # a bare product, "那36期呢", "换成等额本金" against the thread
        if not (latest_entity(tracker, "application_id") or latest_entity(tracker, "ticket_number")):
            answered = answer_reading(dispatcher, tracker, reading)
            if answered is not None:
                return answered + [NEXT_NONE]
        if latest_entity(tracker, "application_id") and reading.state.offer in ("loan_details", "prepay_calc"):
            # the number given in answer to "帮您查一下这笔借款吗": the offer accepted, on that loan
            return accept_offer(dispatcher, tracker, reading.state.offer) + [FollowupAction("loan_form")]
        if latest_entity(tracker, "application_id") and CANCEL_WORDS.search(tracker.latest_message.get("text") or ""):
            # "申请撤了吧 编号SQ…" read as inform for its number: that application's cancellation (strong check)
            return [SlotSet("loan_operation", "cancel"), *prepare_loan_form(dispatcher, tracker, "cancel"),
                    NEXT_NONE, FollowupAction("loan_form")]
        if latest_entity(tracker, "application_id") or latest_entity(tracker, "ticket_number"):
            return [SlotSet("id_last4", None), SlotSet("verify_status", None), SlotSet("ticket_check", None),
                    SlotSet("next_step", "progress_form")]
        if latest_entity(tracker, "purpose") or latest_entity(tracker, "income"):
            # "装修用""月收入八千" out of the blue: what they want to borrow, asked before any product
            return start_need_discovery(dispatcher, tracker)
        amount, term = latest_entity(tracker, "amount"), latest_entity(tracker, "term")
        if amount or term:
            state = reading.state
            product = state.product
            amount_n, term_n = as_int(amount) or state.amount, as_int(term) or state.term
            say(dispatcher, answers.rate_answer(catalogue(), product, amount_n, term_n), tracker)
            return remember(state, "rates", None if amount_n and term_n else "calc_example",
                            shown_example(product, amount_n, term_n)) + [NEXT_NONE]
        if reading.facts.product:  # a product named out of the blue: what it is and costs
            say(dispatcher, answers.rate_answer(catalogue(), reading.facts.product, None, None), tracker)
            return remember(reading.state, "rates", "calc_example") + [NEXT_NONE]
        dispatcher.utter_message(response="utter_greet")
        return remember(reading.state, None) + [NEXT_NONE]


class ActionStopForm(Action):
    def name(self) -> Text:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reading = reading_of(tracker)
        if reading.answered_here and reading.kind not in ("closing", "stop_and_ask", "accept_offer"):
            # a question read as goodbye ("撤了会扣钱吗"): answered; the form stops, and how to go on is said
            answer_reading(dispatcher, tracker, reading)
            dispatcher.utter_message(text="要继续办理的话，随时告诉我。")
        elif intent == "goodbye" or reading.kind == "closing":  # "先这样吧" inside a form
            say(dispatcher, closing_answer(catalogue()), tracker)
        else:
            dispatcher.utter_message(response="utter_form_stopped")
        return [SlotSet(name, None) for name in ("application_id", "id_last4", "otp_code", "verify_status",
                                                  "loan_operation", "complaint_detail", "contact_phone")]


class ActionClose(Action):
    """Goodbye, or a hesitation ("我再想想", "先这样"): a warm close that says how to come back."""

    def name(self) -> Text:
        return "action_close"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reading = reading_of(tracker)
        if is_voice(tracker) and reading.kind != "closing":
            # on the phone a goodbye is utter_goodbye: the voice channels end the call on it (connectors/render.py)
            dispatcher.utter_message(response="utter_goodbye")
        else:
            say(dispatcher, closing_answer(catalogue()), tracker)
        return remember(reading.state, "closing")
