"""Risk signals: urgent need (and pressing again and again), fraud reports, and the family of signals in a
customer's own words (new job, many lenders, credit enquiries, high debt, vague repayment plan:
credit/catalogue/risk_signals.py),
each recorded as a risk event with its reason code and the words as evidence."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, polite_on_failure, reading_of, reads_aloud, remember, say, service, speak
from actions.thread import answer_reading
from credit.answers import texts as answers
from credit.catalogue.risk_signals import Finding
from credit.voice import service as voice_service

# the customer raised something that sounds like a scam: then (only then) the warning goes with it
FRAUD_HINTS = re.compile(r"包装|内部|渠道|中介|先交|保证金|手续费|解冻|刷流水|代办|加急费|好处费")


#: readings the urgency answer covers itself (an amount said with the plea is part of the need)
ANSWERED_BY_URGENCY = ("figures", "accept_offer", "calc", "wait")


class ActionUrgentNeed(Action):
    def name(self) -> Text:
        return "action_urgent_need"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reading = reading_of(tracker)
        # "能不能快点" after a progress answer; a question said with the need ("进货用钱，先息后本行吗"): answered first
        if reading.answered_here and reading.kind not in ANSWERED_BY_URGENCY:
            answered = answer_reading(dispatcher, tracker, reading)
            if answered is not None:
                return answered
        text = tracker.latest_message.get("text") or ""
        pressing = catalogue().risk_signals.pressing
        noted = list(tracker.get_slot("risk_noted") or [])
        pleas = _urgent_messages(tracker)
        if pleas >= 2 and pressing.code not in noted:
            # the second plea to hurry in one conversation: a calm, honest word, not the same block again
            service().record_risk_event(tracker.sender_id, pressing.code, f"同一对话第{pleas}次催促｜{text}")
            scam = f"\n{answers.FAST_LANE_SCAM}" if FRAUD_HINTS.search(text) else ""
            dispatcher.utter_message(text=f"{pressing.reply}{scam}\n{pressing.question}")
            return [SlotSet("offer", None), SlotSet("risk_noted", noted + [pressing.code])]
        service().record_risk_event(tracker.sender_id, "urgent_need", text)
        if reads_aloud(tracker):
            speak(dispatcher, voice_service.urgent_need(catalogue(), bool(FRAUD_HINTS.search(text)),
                                                        answers.FAST_LANE_SCAM), tracker)
            return [SlotSet("offer", None)]
        say(dispatcher, answers.urgent_need_answer(catalogue(), fraud_mentioned=bool(FRAUD_HINTS.search(text))),
            tracker)
        return [SlotSet("offer", None)]


def _urgent_messages(tracker: Tracker) -> int:
    """How many of the customer's messages in this conversation pleaded urgency (this one included)."""
    return sum(1 for e in tracker.events if e.get("event") == "user"
               and ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "urgent_need")


TRUST_READINGS = ("credit_repair", "third_party", "usury", "scammed", "legitimacy", "data_safety", "police",
                  "documents")  # "流水要几个月的": a documents question (a fraud context is never read as one)


class ActionReportFraud(Action):
    def name(self) -> Text:
        return "action_report_fraud"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service().record_risk_event(tracker.sender_id, "fraud_report", tracker.latest_message.get("text") or "")
        reading = reading_of(tracker)
        if reading.kind in TRUST_READINGS:  # "交钱能洗白征信吗": that question's honest answer, not the generic list
            answered = answer_reading(dispatcher, tracker, reading)
            if answered is not None:
                return answered
        if reads_aloud(tracker):
            speak(dispatcher, voice_service.fraud(catalogue()), tracker)
        else:
            say(dispatcher, answers.fraud_answer(catalogue()), tracker)
        return remember(reading.state, "fraud", "handoff")  # "要不要报警" next is read on this topic


def note_risk_signals(tracker: Tracker) -> Tuple[List[Finding], List[EventType]]:
    """Signals in the latest message not yet recorded in this conversation: recorded now."""
    text = tracker.latest_message.get("text") or ""
    noted = list(tracker.get_slot("risk_noted") or [])
    findings = [f for f in catalogue().risk_signals.find(text) if f.signal.code not in noted]
    if not findings:
        return [], []
    for finding in findings:
        service().record_risk_event(tracker.sender_id, finding.signal.code, f"{finding.evidence}｜{text}")
    return findings, [SlotSet("risk_noted", noted + [f.signal.code for f in findings])]
