"""Never silence: the polite replies the hardened server gives when something fails, and
the hooks channels can use.

* :data:`ACTION_FAILED` — a custom action failed or timed out (the action server is down,
  hung or crashed).  Sent at most once per turn; later remote calls in the same turn
  are skipped so a hung action server costs one timeout, not one per action.
* :data:`BUSY` — the conversation could not be read or saved (tracker store or lock
  store unavailable).  The customer is told the message did not go through, never
  answered from an empty conversation.
* :data:`NO_REPLY` — the turn ran but produced no message at all.

Channel hook: :func:`ensure_reply` takes the list of bot messages a channel is about to
deliver and appends :data:`NO_REPLY` when none of them shows anything to the customer.
The hardened processor already does this for every channel (and records the reply in
the tracker); channels call it as a last line of defence around their own failure paths.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rasa.shared.exceptions import RasaException

from credit.catalogue.loader import load_catalogue

# The catalogue is the one place the hotline is written down; it is checked at start-up
# (an unreadable catalogue stops the server before it answers anyone).
HOTLINE = load_catalogue().hotline.number

# Domain responses used when the model has them (channel-specific variants apply).
ACTION_FAILED_RESPONSE = "utter_service_unavailable"

ACTION_FAILED = (
    "非常抱歉，系统暂时有点忙，刚才的请求没有办理成功。请稍后再发一次，"
    f"或说“转人工”由人工客服为您处理，也可拨打客服热线 {HOTLINE}。"
)
BUSY = (
    "非常抱歉，系统繁忙，您刚才的消息没有处理成功。请稍后再发一次；"
    f"如有急事，请拨打客服热线 {HOTLINE}。"
)
NO_REPLY = (
    "抱歉，这条消息我没能处理好。您可以换个说法再试一次，或说“转人工”由人工客服为您服务。"
)

# Keys of a bot message that show something to the customer.
VISIBLE_KEYS = ("text", "buttons", "quick_replies", "image", "attachment", "custom", "elements")


class TrackerStoreUnavailable(RasaException):
    """The conversation store could not be read or written (instead of an empty tracker)."""


@dataclass
class TurnState:
    """Per-turn bookkeeping (one customer message), kept in a context variable."""

    sender_id: str = ""
    apologised: bool = False
    action_server_failed: bool = False
    degraded: List[str] = field(default_factory=list)
    compliance_handoff: bool = False  # the output guard handed this turn to a colleague already


@dataclass
class RequestState:
    """Per-HTTP-request bookkeeping, set by the middleware (``X-Degraded``, turns started)."""

    degraded: List[str] = field(default_factory=list)
    turns: int = 0


_turn: contextvars.ContextVar[Optional[TurnState]] = contextvars.ContextVar("credit_turn", default=None)
_request: contextvars.ContextVar[Optional[RequestState]] = contextvars.ContextVar("credit_request", default=None)


def current_turn() -> Optional[TurnState]:
    return _turn.get()


def start_turn(sender_id: str) -> contextvars.Token:
    request = _request.get()
    if request is not None:
        request.turns += 1
    return _turn.set(TurnState(sender_id=sender_id))


def start_request() -> RequestState:
    state = RequestState()
    _request.set(state)
    return state


def end_turn(token: contextvars.Token) -> None:
    _turn.reset(token)


def mark_degraded(reason: str) -> None:
    """Note a degraded answer for this request (HTTP header ``X-Degraded``) and turn."""
    turn = _turn.get()
    if turn is not None and reason not in turn.degraded:
        turn.degraded.append(reason)
    request = _request.get()
    if request is not None and reason not in request.degraded:
        request.degraded.append(reason)


def is_visible(message: Dict[str, Any]) -> bool:
    return any(message.get(key) not in (None, "", [], {}) for key in VISIBLE_KEYS)


def ensure_reply(messages: Optional[List[Dict[str, Any]]], recipient_id: Optional[str] = None,
                 text: str = NO_REPLY) -> List[Dict[str, Any]]:
    """``messages`` plus a polite reply when none of them shows anything (never silence).

    Returns a new list; the input is not modified."""
    result = list(messages or [])
    if not any(isinstance(m, dict) and is_visible(m) for m in result):
        reply: Dict[str, Any] = {"text": text}
        if recipient_id is not None:
            reply = {"recipient_id": recipient_id, **reply}
        result.append(reply)
    return result
