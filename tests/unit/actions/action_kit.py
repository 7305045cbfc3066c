"""Helpers for the action unit tests (and the other tests that run rasa-sdk actions): a form domain, a
tracker builder, running an action, and reading its slots and text."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN: Dict[str, Any] = {"slots": {}, "responses": {}, "forms": {
    "progress_form": {"required_slots": ["application_id", "id_last4"]},
    "loan_form": {"required_slots": ["application_id", "id_last4", "otp_code"]},
    "complaint_form": {"required_slots": ["complaint_detail", "contact_phone"]},
}}


def make_tracker(sender: str = "rest:u1", text: str = "", intent: str = "inform",
                 entities: Optional[List[Dict[str, Any]]] = None, slots: Optional[Dict[str, Any]] = None,
                 events: Optional[List[Dict[str, Any]]] = None, active_loop: Optional[str] = None,
                 ranking: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "intent_ranking": ranking or []}
    user_event = {"event": "user", "text": text, "parse_data": latest}
    return Tracker(sender, slots or {}, latest, (events or []) + [user_event], False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def run(action, tracker: Tracker, domain: Optional[Dict[str, Any]] = None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or DOMAIN))
    return dispatcher.messages, events


def slots_of(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def all_text(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)
