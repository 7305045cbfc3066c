"""Conversation session start: what is carried over (credit/session_carry.py), the privacy
notice once per conversation.

Why the session starts is in ``session_started_metadata.session_reason``
(server/patches/sessions.py): ``new``, ``expired`` or ``length``.  Because the notice is only
shown when nothing was said before, a session started by the assistant itself (a notice
written into the conversation) never shows it as if the customer had written.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import reads_aloud
from credit.compliance import PRIVACY_NOTICE_SHORT, PRIVACY_NOTICE_VOICE
from credit.session_carry import SESSION_METADATA_SLOT, carry_over, reason_of, started_by_customer


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        metadata = tracker.get_slot(SESSION_METADATA_SLOT)
        carry = carry_over(
            reason_of(metadata), tracker.slots, tracker.active_loop.get("name"),
            spoken_before=any(e.get("event") in ("user", "bot") for e in tracker.events),
            carry_all=bool((domain.get("session_config") or {}).get("carry_over_slots_to_new_session")),
            by_customer=started_by_customer(metadata))
        if carry.privacy_notice:
            dispatcher.utter_message(text=PRIVACY_NOTICE_VOICE if reads_aloud(tracker) else PRIVACY_NOTICE_SHORT)
        events: List[EventType] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in carry.slots.items()]
        if carry.active_loop:
            events.append(ActiveLoop(carry.active_loop))
        events.append(ActionExecuted("action_listen"))
        return events
