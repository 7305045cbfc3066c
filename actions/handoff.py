"""Human handoff: a handoff record with a summary for the agent, and a channel-neutral
custom payload `{"type": "handoff", "queue": ..., "summary": ...}` that channels act on."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import INTENT_LABELS, catalogue, channel_of, is_voice, polite_on_failure, service
from actions.thread import answer_reading
from credit.answers import texts as answers
from credit.text.masking import mask_pii
from credit.voice import service as voice_service

QUEUE_BY_INTENT = {"complain": "complaint", "report_fraud": "fraud", "ask_overdue": "collections"}


def conversation_summary(tracker: Tracker, limit: int = 6) -> str:
    """Short, masked summary: topics raised, the latest messages, the application in question."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    topics: List[str] = []
    for event in users:
        label = INTENT_LABELS.get((event.get("parse_data") or {}).get("intent", {}).get("name", ""))
        if label and label not in topics:
            topics.append(label)
    lines = [f"渠道: {channel_of(tracker)}", f"话题: {'、'.join(topics) or '未识别'}"]
    app_id = tracker.get_slot("application_id") or tracker.get_slot("verified_application")
    if app_id:
        lines.append(f"申请编号: {app_id}")
    recent = [mask_pii(str(e.get("text") or ""))[:120] for e in users[-limit:]]
    lines.append("客户最近说: " + " / ".join(t for t in recent if t))
    return "\n".join(lines)


def queue_for(tracker: Tracker) -> str:
    intents = [(e.get("parse_data") or {}).get("intent", {}).get("name")
               for e in tracker.events if e.get("event") == "user"]
    for intent in reversed(intents):
        if intent in QUEUE_BY_INTENT:
            return QUEUE_BY_INTENT[intent]
    return "general"


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> List[EventType]:
    summary = f"转人工原因: {reason}\n" + conversation_summary(tracker)
    queue = queue_for(tracker)
    svc = service()
    svc.record_handoff(tracker.sender_id, channel_of(tracker), queue, summary)
    now = svc.now()
    open_now = catalogue().hotline.is_open(now)
    can_call_back = not open_now and bool(tracker.get_slot("verified_application"))
    if is_voice(tracker):  # said before the call is put through: short, nothing to key (credit/voice)
        can_call_back = False
        dispatcher.utter_message(text=voice_service.handoff(catalogue(), now).points[0].text)
    else:
        dispatcher.utter_message(text=answers.handoff_message(catalogue(), now, can_call_back))
    dispatcher.utter_message(json_message={"type": "handoff", "queue": queue, "summary": summary,
                                           "agents_available": open_now})
    return [SlotSet("offer", "callback" if can_call_back else None)]


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    @polite_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        answered = answer_reading(dispatcher, tracker)  # "热线号码给我一个": the number, not a transfer
        if answered is not None:
            return answered
        return hand_off(dispatcher, tracker, "客户要求人工服务")
