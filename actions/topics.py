"""Repayment, overdue, limit, eligibility and account questions, answered from the catalogue."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    catalogue,
    is_voice,
    other_lenders_named,
    polite_on_failure,
    question_text,
    reading_of,
    reads_aloud,
    remember,
    say,
    speak,
)
from actions.needs import privacy_before_personal_data, start_need_discovery, starts_need_discovery
from actions.outreach import reply_to_notice
from actions.risk import note_risk_signals
from actions.thread import answer_reading
from actions.voice import ask_of, topic_form
from credit.answers import explain, lender_replies
from credit.answers import texts as answers
from credit.compliance import PRIVACY_NOTICE, asks_for_privacy_notice
from credit.voice import service as voice_service

# topics where a risk signal IS the question ("负债高能申请吗"): its answer replaces the generic one
RISK_ANSWERS_INSTEAD = ("ask_eligibility", "ask_loan_limit")
# what each topic can offer next (accepted with "好的"/affirm)
OFFERS = {"ask_overdue": "negotiation", "ask_repayment": "loan_details"}
TOPIC_OF = {"ask_overdue": "overdue", "ask_repayment": "repayment", "ask_loan_limit": "limit",
            "ask_eligibility": "eligibility", "account_service": "account"}
NOTICE_REPLIES = ("ask_repayment", "ask_overdue")


class ActionAnswerTopic(Action):
    def name(self) -> Text:
        return "action_answer_topic"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        return answer_topic(dispatcher, tracker)


def answer_topic(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The topic's answer from the catalogue (a risk signal's honest answer where it is the question)."""
    intent = tracker.latest_message.get("intent", {}).get("name", "")
    if intent == "account_service" and asks_for_privacy_notice(tracker.latest_message.get("text") or ""):
        dispatcher.utter_message(text=PRIVACY_NOTICE)
        return [SlotSet("offer", None)]
    if intent in NOTICE_REPLIES:  # "怎么还" / "还不上了" to a repayment notice: about that loan
        replied = reply_to_notice(dispatcher, tracker)
        if replied is not None:
            return replied
    reading = reading_of(tracker)  # one reading of the turn (credit/dialogue/resolver.py)
    answered = answer_reading(dispatcher, tracker, reading)
    if answered is not None:
        return answered
    findings, noted = note_risk_signals(tracker)
    if findings:
        noted = [*noted, *privacy_before_personal_data(dispatcher, tracker)]
    if findings and intent in RISK_ANSWERS_INSTEAD:
        # "刚换工作能借吗": the honest answer about that, not the generic conditions list
        if reads_aloud(tracker):
            speak(dispatcher, voice_service.risk_signals(catalogue(), findings), tracker)
        else:
            say(dispatcher, answers.risk_signal_answer(catalogue(), findings), tracker)
        return [*remember(reading.state, TOPIC_OF.get(intent)), *noted]
    text = question_text(tracker)  # a clarification button: the question it clarified
    form = topic_form(intent, ask_of(tracker, other_lenders_named(tracker))) if reads_aloud(tracker) else None
    if form is not None:  # heard: the point asked for first (credit/voice)
        speak(dispatcher, form, tracker)
        if findings:
            speak(dispatcher, voice_service.risk_signals(catalogue(), findings), tracker)
        return [*remember(reading.state, TOPIC_OF.get(intent), OFFERS.get(intent)), *noted]
    amount, term = reading.state.figures()
    reply = (explain.explanation_answer(catalogue(), text, amount, term)
             or answers.topic_answer(catalogue(), intent, text))
    say(dispatcher, lender_replies.with_not_us(catalogue(), reply, other_lenders_named(tracker),
                                               voice=is_voice(tracker)), tracker)
    if findings:
        say(dispatcher, answers.risk_signal_answer(catalogue(), findings), tracker)
    return [*remember(reading.state, TOPIC_OF.get(intent), OFFERS.get(intent)), *noted]


class ActionDiscoverNeed(Action):
    """An eligibility question outside a form: a customer who says what they want to borrow ("想借点钱"
    "装修用 有什么产品") is asked about the need before any product is named; a conditions question
    or a risk signal is answered as a topic.  Rules branch on ``next_step``."""

    sets_next_step = True

    def name(self) -> Text:
        return "action_discover_need"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        answered = answer_reading(dispatcher, tracker)  # a question asked is answered before any discovery
        if answered is not None:
            return [*answered, SlotSet("next_step", "none")]
        if starts_need_discovery(tracker) and not catalogue().risk_signals.find(tracker.latest_message.get("text")):
            return [SlotSet("offer", None), *start_need_discovery(dispatcher, tracker)]
        return [*answer_topic(dispatcher, tracker), SlotSet("next_step", "none")]
