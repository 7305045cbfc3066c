"""Shared glue: service singletons, sender/channel helpers, the guard that turns backend failures into a polite
reply instead of silence, and the conversation state in its slot with the resolver's reading of the turn."""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import replace
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from credit import clock
from credit.answers import texts as answers
from credit.answers.repeats import ALREADY_SAID, recap, without_repeats
from credit.catalogue.loader import Catalogue, load_catalogue
from credit.db.engine import get_engine, init_db
from credit.dialogue.resolver import Reading, resolve
from credit.dialogue.state import ConversationState, Example
from credit.errors import ServiceUnavailable
from credit.replies import compact
from credit.service import LoanService
from credit.voice import generic as voice_generic
from credit.voice.turns import MENU_TYPE, VoiceForm, first_turn

logger = logging.getLogger(__name__)

_service: Optional[LoanService] = None

# The one place that names intents for customers (fallback buttons, handoff summaries, menus).
INTENT_LABELS: Dict[str, str] = {
    "ask_interest_rate": "利率与费用",
    "complain": "投诉",
    "ask_prepayment": "提前还款",
    "check_progress": "查询申请进度",
    "ask_repayment": "还款问题",
    "ask_overdue": "逾期与协商还款",
    "ask_loan_limit": "额度问题",
    "ask_eligibility": "申请条件与材料",
    "request_human": "转人工客服",
    "cancel_loan": "取消申请/借款",
    "account_service": "账户与银行卡",
    "request_settlement_certificate": "开具结清证明",
    "report_fraud": "举报诈骗",
    "urgent_need": "急需用钱",
    "give_suggestion": "意见与建议",
}


def service() -> LoanService:
    global _service
    if _service is None:
        engine = get_engine(os.environ.get("DATABASE_URL"))
        init_db(engine)
        _service = LoanService(engine, clock=clock.now)
    return _service


def catalogue() -> Catalogue:
    return load_catalogue()


def sender_of(tracker: Tracker) -> str:
    return tracker.sender_id


def channel_of(tracker: Tracker) -> str:
    """Channel from the namespaced sender id (`wx:`, `kf:`, `web:`, `tel:`, `ivr:`, `rest:`)."""
    prefix, sep, _ = tracker.sender_id.partition(":")
    return prefix if sep else (tracker.get_latest_input_channel() or "rest")


VOICE_CHANNELS = ("tel", "ivr")


def is_voice(tracker: Tracker) -> bool:
    """Phone conversations get the short forms of long answers (they are read aloud)."""
    return channel_of(tracker) in VOICE_CHANNELS


def reads_aloud(tracker: Tracker) -> bool:
    """The answer is heard rather than read: a phone call, or a WeChat voice message (its sender speaks, and
    most likely listens to the reply too: issue 28).  These get the voice forms (credit/voice)."""
    if is_voice(tracker):
        return True
    # the message's metadata; at a session's start (before the message is in the tracker) the session's
    metadata = (tracker.latest_message or {}).get("metadata") or tracker.get_slot("session_started_metadata") or {}
    wechat = metadata.get("wechat") if isinstance(metadata, dict) else None
    return channel_of(tracker) == "wx" and isinstance(wechat, dict) and wechat.get("kind") == "voice"


def voice_menus(tracker: Tracker) -> List[Dict[str, Any]]:
    """The voice-menu states of this conversation's bot messages, newest first (credit/voice/turns.py)."""
    menus = []
    for event in reversed(tracker.events):
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and custom.get("type") == MENU_TYPE:
            menus.append(custom)
    return menus


def speak(dispatcher: CollectingDispatcher, form: VoiceForm, tracker: Tracker, focus: Optional[str] = None) -> None:
    """The first turn of ``form``: the point the caller's words ask for (points heard in the latest answer of
    the same kind are not said again), then the next point offered; the state rides on the message."""
    latest = next(iter(voice_menus(tracker)), None)
    heard = list(latest.get("heard") or []) if latest and latest.get("kind") == form.kind else []
    turn = first_turn(form, tracker.latest_message.get("text") or "", heard, focus)
    dispatcher.utter_message(text=turn.text, buttons=turn.buttons or None, json_message=turn.state)


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(name), None)


def other_lenders_named(tracker: Tracker) -> List[str]:
    """Other lenders' products named in the latest message (entity other_lender), each once."""
    names: List[str] = []
    for value in tracker.get_latest_entity_values("other_lender"):
        if isinstance(value, str) and value not in names:
            names.append(value)
    return names


Handler = Callable[..., Awaitable[List[Dict[Text, Any]]]]


def polite_on_failure(func: Handler) -> Handler:
    """A failing action would give the customer no reply at all: answer and log instead."""

    @functools.wraps(func)
    async def wrapper(self: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        try:
            return await func(self, dispatcher, tracker, domain)
        except ServiceUnavailable:
            logger.warning("backend unavailable in %s", self.name())
        except Exception:  # noqa: BLE001 - the customer must never get silence
            logger.exception("action %s failed", self.name())
        dispatcher.utter_message(response="utter_service_unavailable")
        return [SlotSet("next_step", "none")] if getattr(self, "sets_next_step", False) else []

    return wrapper


def say(dispatcher: CollectingDispatcher, reply: Any, tracker: Optional[Tracker] = None) -> None:
    """Send a `credit.answers.texts.Reply` (text plus optional buttons).  With ``tracker``, an answer block
    never repeats what this conversation already got word for word (credit/answers/repeats.py)."""
    if tracker is not None and reads_aloud(tracker):  # heard, not read: the reply in spoken points
        speak(dispatcher, voice_generic.from_text("answer", reply.text, reply.buttons), tracker)
        return
    text = compact(reply.text)
    if tracker is not None:
        earlier = [e.get("text") or "" for e in tracker.events if e.get("event") == "bot"]
        earlier += [m.get("text") or "" for m in dispatcher.messages]
        reduced = without_repeats(text, earlier)
        if reduced is not None and reduced.splitlines()[0] in ALREADY_SAID:  # nothing new: a question asked again
            reduced = recap(text, tracker.latest_message.get("text") or "") or reduced  # gets its key points
        text = reduced or text
    dispatcher.utter_message(text=text, buttons=list(reply.buttons) or None)


def question_text(tracker: Tracker) -> str:
    """The customer's words this turn.  A clarification button ("/ask_overdue" picked from "您是想问 A 还是 B？")
    carries no words: then the question being clarified (the user turn before, answered nlu_fallback)."""
    text = tracker.latest_message.get("text") or ""
    if not text.startswith("/"):
        return text
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) >= 2 and ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback":
        return users[-2].get("text") or text
    return text


def as_int(value: Any) -> Optional[int]:
    """A slot or entity value as a whole number (amounts, terms), or None."""
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """One gentle follow-up after a resolved question, not again while the last one is recent."""
    if reads_aloud(tracker):  # a spoken answer already ends with what can come next
        return
    recent = [e for e in tracker.events if e.get("event") == "bot"][-4:]
    if not any((e.get("metadata") or {}).get("utter_action") == "utter_follow_up" for e in recent):
        dispatcher.utter_message(response="utter_follow_up")


# ------------------------------------------------- the conversation state and the reading of the turn

STATE_SLOT = "dialogue_state"


def state_of(tracker: Tracker) -> ConversationState:
    """The state before this turn; the entity-filled slots (product, amount, term) are at least as recent."""
    state = ConversationState.from_slot(tracker.get_slot(STATE_SLOT))
    term = _int(tracker.get_slot("term"))
    shortest = min(p.term_min for p in catalogue().products)
    state = state.updated(product=tracker.get_slot("product"), amount=_int(tracker.get_slot("amount")),
                          term=term if term and term >= shortest else None,  # "头一个月" is no term
                          verified_application=tracker.get_slot("verified_application"))
    return replace(state, offer=tracker.get_slot("offer"))


def _int(value: Any) -> Optional[int]:
    try:
        number = int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number and number > 0 else None


def reading_of(tracker: Tracker) -> Reading:
    """The resolver's reading of the latest message against the state before it."""
    message = tracker.latest_message or {}
    form = (tracker.active_loop or {}).get("name")
    # a clarification button ("/ask_overdue") is read as the question it clarified, for its facts; an everyday
    # question of its own in that text is not the topic the customer just chose
    reading = resolve(question_text(tracker), (message.get("intent") or {}).get("name"), state_of(tracker),
                      form=form, requested_slot=tracker.get_slot("requested_slot") if form else None)
    if str(message.get("text") or "").startswith("/") and reading.kind in EVERYDAY_KINDS:
        return replace(reading, kind="none")
    return reading


#: the resolver's everyday questions (credit/dialogue/everyday.py), set aside after a clarification button
EVERYDAY_KINDS = ("due_day", "holiday_due", "service_hours", "debit_failed", "certificate_delivery", "penalty_cap",
                  "complaint_time", "collateral")


def remember(state: ConversationState, topic: Optional[str], offer: Optional[str] = None,
             example: Optional[Example] = None) -> List[EventType]:
    """The state after an answer: its topic, the open offer (mirrored in the ``offer`` slot) and its example."""
    new = state.answered(topic, offer, example)
    return [SlotSet(STATE_SLOT, new.to_slot()), SlotSet("offer", new.offer)]


def shown_example(product: Optional[str], amount: Optional[int], term: Optional[int]) -> Optional[Example]:
    """The example a rate answer showed for these figures (None when they do not fit the product)."""
    cat = catalogue()
    p = cat.find_product(product or "") or cat.product(cat.demo_loan.product)
    amount, term = amount or answers.DEFAULT_EXAMPLE_AMOUNT, term or answers.DEFAULT_EXAMPLE_TERM
    if not (p.amount_in_range(amount) and p.supports_term(term)):
        return None
    return Example(product=p.code, amount=amount, term=term, method=p.example_method)
