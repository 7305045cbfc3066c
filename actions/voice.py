"""Answers heard rather than read (issue 28): which voice form answers a message, and "按1" / a product chosen
by key served from the state of the turn the caller just heard.

The forms themselves are plain Python in ``credit/voice``; the state of a spoken turn rides on its bot message
(``custom`` of type ``voice_menu``), so nothing here needs a slot: "按1" (``/affirm``) means the next point of
the latest spoken answer, ``/affirm{"product": …}`` its product question answered.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import as_int, catalogue, latest_entity, service, voice_menus
from credit.answers import explain, lender_replies
from credit.errors import ServiceError
from credit.voice import generic, kinds, money
from credit.voice.turns import Ask, Turn, VoiceForm, next_turn, pending


def ask_of(tracker: Tracker, lenders: Optional[List[str]] = None, amount: Any = None, term: Any = None) -> Ask:
    """The caller's words, the product in context (named now or earlier in this conversation, else that of the
    application the caller was verified for) and figures."""
    product = latest_entity(tracker, "product") or tracker.get_slot("product") or own_product(tracker)
    lead = lender_replies.not_us_note(catalogue(), lenders or [], voice=True)
    return Ask(tracker.latest_message.get("text") or "", product, as_int(amount), as_int(term), lead)


def own_product(tracker: Tracker) -> Optional[str]:
    """The product of the application this caller was verified for (still verified), if any."""
    app_id = tracker.get_slot("verified_application")
    if not app_id:
        return None
    try:
        return service().get_progress(tracker.sender_id, app_id).product
    except ServiceError:  # the verification expired, or the database is away: ask which product instead
        return None


def rate_form(tracker: Tracker, ask: Ask) -> VoiceForm:
    """The voice form of a rate-intent question: jargon explained, an objection answered, every fee, or the rate."""
    cat, text = catalogue(), ask.question
    explained = money.explanation(cat, ask)
    if explained is not None:
        return explained
    if explain.is_objection(text):
        reply = explain.objection_answer(cat, text, ask.product, ask.amount, ask.term)
        return generic.from_text("objection", reply.text, reply.buttons, lead=ask.lead)
    if explain.is_fee_question(text):
        return money.fees(cat, ask)
    return money.rates(cat, ask)


def topic_form(intent: str, ask: Ask) -> Optional[VoiceForm]:
    """The voice form of a topic question (jargon first, as the text answer does)."""
    cat = catalogue()
    return money.explanation(cat, ask) or kinds.build(cat, kinds.TOPIC_KINDS.get(intent, ""), ask)


def _previous_turn_menu(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The voice menu of the bot turn just before this message (None when that turn had none)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            custom = (event.get("data") or {}).get("custom")
            if isinstance(custom, dict) and custom.get("type") == "voice_menu":
                return custom
    return None


def serve_pending(dispatcher: CollectingDispatcher, tracker: Tracker, product_only: bool = False
                  ) -> Optional[List[EventType]]:
    """"按1" / "好的" / a product chosen, answering the spoken turn just heard: its next point (or the answer
    for the chosen product).  None when the latest turn offered nothing of the kind (``product_only``: unless
    it asked which product)."""
    state = _previous_turn_menu(tracker)
    if not pending(state) or (product_only and state.get("ask") != "product"):
        return None
    assert state is not None
    turn: Optional[Turn] = None
    product = latest_entity(tracker, "product")
    if state.get("ask") == "product":  # without a product ("好的" to "which one?"): asked again
        turn = kinds.with_product(catalogue(), state, product)
    else:
        turn = next_turn(state)
    if turn is None:
        return None
    dispatcher.utter_message(text=turn.text, buttons=turn.buttons or None, json_message=turn.state)
    return []


def sms_kind(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The latest spoken answer of this conversation whose full text may go by SMS (kind and product)."""
    return next((m for m in voice_menus(tracker) if m.get("sms")), None)


__all__ = ["ask_of", "rate_form", "serve_pending", "sms_kind", "topic_form"]
