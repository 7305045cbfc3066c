"""Output guard: every bot message is checked by the compliance checker before any channel gets it.

The one choke point: ``MessageProcessor._send_bot_messages`` is where Rasa 3.6.21 hands every
``BotUttered`` of a turn to the channel's output (``OutputChannel.send_response``): the events of every
action (``_run_action`` -> ``execute_side_effects``, also for ``trigger_intent``, reminders and the
``/execute`` API) and of ``action_extract_slots``.  REST, web chat (socket.io push), WeChat (passive and
customer-service API), Twilio, the JSON IVR, an answered outbound call and any channel added later all
receive their messages there.  (Channel-level texts that are not bot messages are fixed strings,
checked by the tests, and the voice read-back of what a caller said is masked in the voice engine.)

For each message, :func:`credit.guard.review.review` decides (the checker is the one rule list):

* pass: sent unchanged;
* masked: personal data masked in place, then sent;
* replaced: the customer gets :data:`credit.guard.review.SAFE_LINE` with a hand-off payload
  (``{"type": "handoff", "queue": "compliance", ...}``, which every channel acts on: WeChat transfers to
  客服, the phone transfers the call, the web chat shows the hand-off; its summary names the rule, never
  the stopped text), and a hand-off record for the colleague with the stopped reply (masked) in its
  summary.  A second replaced message in the same turn is dropped (one safe line, one hand-off).

The event is changed *in place*: ``_run_action`` logs the action's events on the tracker before it sends
them and ``run_action_extract_slots`` after, both with the same event objects, so the tracker (the
conversation store, the web chat history, the ops transcripts) holds exactly what was sent, never the
stopped text.  Its metadata gets ``compliance_guard`` (decision, rules, interception id).

Each interception is written to ``compliance_interceptions`` (:mod:`credit.guard.records`: rule, intent,
action, response name, masked text, model id) off the event loop.  If the guard itself fails on a
message, that message is replaced (fail closed); if the audit write fails, the customer still gets the
guarded message and the failure is logged.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from credit.guard.records import Intercepted
from credit.guard.review import HANDOFF_QUEUE, REPLACED, SAFE_LINE, Reviewed, handoff_summary, review, rule_labels
from credit.text.masking import mask_pii
from server import guard
from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

_PROCESSOR = "rasa.core.processor"
SEND = Member(_PROCESSOR, "MessageProcessor._send_bot_messages", How.WRAPPED,
              "5ee17ac52cc53364b66023b4670fae15e53039927515db710ac2b3ed23eee4ab")
# relied on: both callers pass the same event objects they log on the tracker (the in-place change
# reaches the conversation store), and a BotUttered keeps its text, data and metadata as attributes
RUN_ACTION = Member(_PROCESSOR, "MessageProcessor._run_action", How.USED,
                    "98ca4e476650dd9fda412d84c7eafdbbbc108204215926b6d0d36d3b86984d0e")
EXTRACT_SLOTS = Member(_PROCESSOR, "MessageProcessor.run_action_extract_slots", How.USED,
                       "52e32bc5b86b446d39b64a5e5e318d3d34d807b343942c9744a7302a779112b1")
BOT_UTTERED = Member("rasa.shared.core.events", "BotUttered.__init__", How.USED,
                     "037749b10ba7b6076302a1887b6c6fbed52401b0ee0a05db1d821cd418a3de00")
BOT_MESSAGE = Member("rasa.shared.core.events", "BotUttered.message", How.USED,
                     "2b10e9856b03ab968086fd91967d834db2641948af0f8c41f805d036f6bfb8c1")
MEMBERS = (SEND, RUN_ACTION, EXTRACT_SLOTS, BOT_UTTERED, BOT_MESSAGE)

METADATA_KEY = "compliance_guard"
PAYLOAD_SUMMARY = "转人工原因: 合规拦截（{rules}），原回复未发送，详见转人工记录"
_BUTTON_KEYS = ("buttons", "quick_replies")


def _titles(data: Dict[str, Any]) -> List[str]:
    titles: List[str] = []
    for key in _BUTTON_KEYS:
        for button in data.get(key) or []:
            if isinstance(button, dict) and isinstance(button.get("title"), str):
                titles.append(button["title"])
    return titles


def _with_titles(data: Dict[str, Any], titles: Sequence[str]) -> Dict[str, Any]:
    """``data`` with its button titles replaced, in order (masked titles)."""
    out = dict(data)
    queue = list(titles)
    for key in _BUTTON_KEYS:
        buttons = data.get(key)
        if isinstance(buttons, list):
            out[key] = [dict(b, title=queue.pop(0)) if isinstance(b, dict) and isinstance(b.get("title"), str)
                        else b for b in buttons]
    return out


def _context(event: Any, tracker: Any) -> Tuple[str, str, str]:
    """(intent, action, response name) of the message: the latest customer intent, the action whose
    events hold it (the last ``ActionExecuted`` before it on the tracker) and its domain response."""
    from rasa.shared.core.constants import ACTION_EXTRACT_SLOTS
    from rasa.shared.core.events import ActionExecuted

    intent = str(((getattr(tracker, "latest_message", None) and tracker.latest_message.intent) or {})
                 .get("name") or "")
    action, seen = "", False
    for logged in reversed(tracker.events):
        if logged is event:
            seen = True
        elif seen and isinstance(logged, ActionExecuted):
            action = logged.action_name or ""
            break
    if not seen:
        action = ACTION_EXTRACT_SLOTS  # sent before it is logged: the slot extraction's messages
    response = str((event.metadata or {}).get("utter_action") or (action if action.startswith("utter_") else ""))
    return intent, action, response


def _channel(sender_id: str) -> str:
    from connectors import ids

    prefix, _ = ids.split(sender_id or "")
    return prefix or "rest"


def _agents_available() -> bool:
    from credit import clock
    from credit.catalogue.loader import load_catalogue

    try:
        return bool(load_catalogue().hotline.is_open(clock.now()))
    except Exception:  # noqa: BLE001 - a detail of the payload, never a reason to fail the turn
        return False


class _Recorder:
    """Writes interceptions to the credit database (``DATABASE_URL``), off the event loop."""

    def __init__(self) -> None:
        self._engine: Any = None

    def _write(self, items: List[Intercepted]) -> List[int]:
        from credit.db.engine import get_engine, init_db
        from credit.guard.records import record

        if self._engine is None:
            engine = get_engine()
            init_db(engine)  # the table is new on an existing database
            self._engine = engine
        return record(self._engine, items)

    async def write(self, items: List[Intercepted]) -> List[Optional[int]]:
        try:
            return list(await asyncio.to_thread(self._write, items))
        except Exception as error:  # noqa: BLE001 - the customer already has the guarded message
            logger.error("compliance interception NOT recorded (%d message(s)): %s: %s", len(items),
                         type(error).__name__, mask_pii(str(error))[:300])
            return [None] * len(items)


def _apply(event: Any, reviewed: Reviewed, drop: bool) -> None:
    """Change the BotUttered in place to what may be sent."""
    data = dict(event.data or {})
    if reviewed.decision == REPLACED:
        event.text = None if drop else SAFE_LINE
        # the stopped text stays out of the payload (a REST client or a platform may show it): the colleague
        # reads it in the hand-off record
        event.data = {} if drop else {"custom": {"type": "handoff", "queue": HANDOFF_QUEUE,
                                                 "summary": PAYLOAD_SUMMARY.format(rules=rule_labels(reviewed.rules)),
                                                 "agents_available": _agents_available()}}
    else:
        event.text = reviewed.text
        event.data = _with_titles(data, reviewed.titles)
    metadata = dict(event.metadata or {})
    if reviewed.decision == REPLACED:  # no longer that response (a replaced goodbye must not end a call)
        metadata.pop("utter_action", None)
    metadata[METADATA_KEY] = {"decision": reviewed.decision, "rules": list(reviewed.rules)}
    event.metadata = metadata


def _failed_review() -> Reviewed:
    return Reviewed(REPLACED, SAFE_LINE, (), ("guard_error",), "（合规检查出错，原回复未发送）")


async def guard_events(events: Sequence[Any], tracker: Any, recorder: _Recorder) -> List[Any]:
    """Review every BotUttered of ``events`` (changed in place); the events that are still to be sent."""
    from rasa.shared.core.events import BotUttered

    turn = guard.current_turn()
    handed_off = bool(turn and turn.compliance_handoff)
    found: List[Tuple[Any, Intercepted]] = []
    for event in events:
        if not isinstance(event, BotUttered):
            continue
        try:
            reviewed = review(event.text, _titles(event.data or {}))
        except Exception:  # noqa: BLE001 - fail closed: an unchecked message never leaves
            logger.exception("compliance check failed on a bot message: replaced by the safe line")
            reviewed = _failed_review()
        if not reviewed.intercepted:
            continue
        intent, action, response = _context(event, tracker)
        channel = _channel(tracker.sender_id)
        summary = ""
        drop = reviewed.decision == REPLACED and handed_off
        if reviewed.decision == REPLACED and not drop:
            said = (getattr(tracker, "latest_message", None) and tracker.latest_message.text) or ""
            summary = handoff_summary(reviewed, channel, intent, action, response, said)
            handed_off = True
        _apply(event, reviewed, drop)
        logger.warning("compliance guard: %s a bot message of %s (%s; intent %s, action %s, response %s)",
                       reviewed.decision, tracker.sender_id, ",".join(reviewed.rules), intent or "-", action or "-",
                       response or "-")
        found.append((event, Intercepted(
            sender_id=tracker.sender_id, channel=channel, rules=reviewed.rules, decision=reviewed.decision,
            text=reviewed.original, intent=intent, action=action, response=response,
            model_id=str(getattr(tracker, "model_id", None) or (event.metadata or {}).get("model_id") or ""),
            handoff_summary=summary)))
    if turn is not None and handed_off:
        turn.compliance_handoff = True
    if found:
        ids = await recorder.write([item for _, item in found])
        for (event, _), row_id in zip(found, ids, strict=True):
            event.metadata[METADATA_KEY]["interception"] = row_id
    return [e for e in events if not (isinstance(e, BotUttered) and e.text is None and not e.data)]


def _guarded_send() -> Any:
    original_send = original(SEND)
    recorder = _Recorder()

    async def send_bot_messages(events: List[Any], tracker: Any, output_channel: Any) -> None:
        # Rasa 3.6.21 MessageProcessor._send_bot_messages, after the output guard
        await original_send(await guard_events(events, tracker, recorder), tracker, output_channel)

    send_bot_messages._credit_hardened = True  # type: ignore[attr-defined]
    return staticmethod(send_bot_messages)


@register("output_guard", MEMBERS)
def apply(settings: Settings) -> None:
    """Every bot message is checked before any channel gets it: masked in place, or replaced by a safe line
    with a hand-off; each interception is recorded."""
    replace(SEND, _guarded_send())
