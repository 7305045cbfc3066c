"""Risk signals: urgent need and fraud reports, each recorded as a risk event."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, polite_on_failure, say, service
from credit import answers


class ActionUrgentNeed(Action):
    def name(self) -> Text:
        return "action_urgent_need"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service().record_risk_event(tracker.sender_id, "urgent_need", tracker.latest_message.get("text") or "")
        say(dispatcher, answers.urgent_need_answer(catalogue()))
        return [SlotSet("offer", None)]


class ActionReportFraud(Action):
    def name(self) -> Text:
        return "action_report_fraud"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service().record_risk_event(tracker.sender_id, "fraud_report", tracker.latest_message.get("text") or "")
        say(dispatcher, answers.fraud_answer(catalogue()))
        return [SlotSet("offer", "handoff")]
