"""Shared glue: service singletons, sender/channel helpers, and the guard that turns
backend failures into a polite reply instead of silence."""
from __future__ import annotations

import functools
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from credit import clock
from credit.answers.repeats import without_repeats
from credit.catalogue.loader import Catalogue, load_catalogue
from credit.db.engine import get_engine, init_db
from credit.errors import ServiceUnavailable
from credit.service import LoanService

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
    """Channel from the namespaced sender id (`wx:`, `web:`, `tel:`, `ivr:`, `rest:`)."""
    prefix, sep, _ = tracker.sender_id.partition(":")
    return prefix if sep else (tracker.get_latest_input_channel() or "rest")


VOICE_CHANNELS = ("tel", "ivr")


def is_voice(tracker: Tracker) -> bool:
    """Phone conversations get the short forms of long answers (they are read aloud)."""
    return channel_of(tracker) in VOICE_CHANNELS


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
    text = reply.text
    if tracker is not None:
        earlier = [e.get("text") or "" for e in tracker.events if e.get("event") == "bot"]
        earlier += [m.get("text") or "" for m in dispatcher.messages]
        text = without_repeats(text, earlier) or text
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
    recent = [e for e in tracker.events if e.get("event") == "bot"][-4:]
    if not any((e.get("metadata") or {}).get("utter_action") == "utter_follow_up" for e in recent):
        dispatcher.utter_message(response="utter_follow_up")
