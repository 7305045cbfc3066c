"""Other lenders named in a message (entity other_lender): who we are, and a progress check that says
first that we cannot see the other platform.  The topic answers add the same note themselves."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, is_voice, other_lenders_named, polite_on_failure, reading_of, say
from actions.thread import answer_reading
from credit.answers import lender_replies
from credit.compliance import PRIVACY_NOTICE, asks_for_privacy_notice


class ActionOutOfScope(Action):
    """"你们是微粒贷吗" gets a clear no and who we are; anything else the out-of-scope menu."""

    def name(self) -> Text:
        return "action_out_of_scope"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        lenders = other_lenders_named(tracker)
        answered = None if lenders else answer_reading(dispatcher, tracker)  # "行，帮我算算" after an offer
        if answered is not None:
            return answered
        if asks_for_privacy_notice(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text=PRIVACY_NOTICE)
        elif lenders:
            say(dispatcher, lender_replies.identity_answer(catalogue(), lenders, voice=is_voice(tracker)), tracker)
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


ANSWERED_BEFORE_ASKING = ("payout_time", "max_amount", "longest_term", "hotline", "usury", "third_party", "channels",
                          "grace", "all_fees", "products", "documents", "product_eligibility", "data_safety",
                          "legitimacy", "credit_repair", "full_number")


def _form_started_this_turn(tracker: Tracker, form: str) -> bool:
    """Whether ``form`` was activated after the customer's latest message (its first question)."""
    since_user: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        since_user.append(event)
    return any(e.get("event") == "active_loop" and e.get("name") == form for e in since_user)


class ActionAskProgressApplicationId(Action):
    """The progress form's question for the number; "借呗几天到账 你们呢" first hears that we are not 借呗
    and how long things take with us."""

    def name(self) -> Text:
        return "action_ask_progress_form_application_id"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reading = reading_of(tracker)
        if _form_started_this_turn(tracker, "progress_form"):  # not on a re-ask
            note = lender_replies.progress_note(catalogue(), other_lenders_named(tracker))
            if note:
                dispatcher.utter_message(text=note)
            elif reading.kind in ANSWERED_BEFORE_ASKING and answer_reading(dispatcher, tracker, reading) is not None:
                # "一般多久到账": the answer first, then the question, for whoever has applied already
                dispatcher.utter_message(text="如果您已经提交了申请，把申请编号（SQ开头加12位数字）告诉我，我帮您查进度；"
                                              "还没申请的话，有问题直接问我就行。")
                return []
        if reading.kind in ("lost_application_id", "wait"):
            return []  # just told where to find it, or to take their time: no second question
        if not _form_started_this_turn(tracker, "progress_form") and _bot_answered_this_turn(tracker):
            # a detour answered just now: the question once more, briefly
            dispatcher.utter_message(text="您把申请编号发给我，我马上帮您查。")
            return []
        dispatcher.utter_message(response="utter_ask_application_id")
        return []


def _bot_answered_this_turn(tracker: Tracker) -> bool:
    """Whether a bot message already answered the customer's latest message (a detour inside the form)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False
