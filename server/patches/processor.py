"""Processor: no silent turn, and every failure of a turn is answered.

* A customer message that produced no bot message gets :data:`server.guard.NO_REPLY`,
  recorded in the tracker like any bot message (``MessageProcessor.handle_message`` is a
  copy of Rasa 3.6.21's with that one step added before the tracker is saved).
* ``Agent.handle_message`` runs each turn in a :class:`server.guard.TurnState`; a turn that
  fails (tracker store unavailable, lock store down, a bug, the model not loaded yet) is
  answered with :data:`server.guard.BUSY` on every channel, never with silence.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from credit.text.masking import mask_pii
from server import guard
from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

HANDLE = Member("rasa.core.processor", "MessageProcessor.handle_message", How.COPIED,
                "df9e61c9c5a1de3d655e0c594505bb6693ea052634611ef1979bcd35ae833cdb")
PREDICTION_LOOP = Member("rasa.core.processor", "MessageProcessor._run_prediction_loop", How.USED,
                         "2c94a535ffdd44983899165743e791ae3bf58e0ab4723de0d82b3f81091b0f52")
AGENT_HANDLE = Member("rasa.core.agent", "Agent.handle_message", How.WRAPPED,
                      "213604a1d06cd0fa4eda5e9a48f54ab4731de856fe28ae6c1bd565c9746d1771")
MEMBERS = (HANDLE, PREDICTION_LOOP, AGENT_HANDLE)


def _turn_has_bot_message(tracker: Any) -> bool:
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            if guard.is_visible({"text": event.text, **(event.data or {})}):
                return True
        elif isinstance(event, UserUttered):
            return False
    return False


async def _ensure_reply_on_tracker(processor: Any, tracker: Any, output_channel: Any) -> None:
    from rasa.shared.core.events import BotUttered

    if _turn_has_bot_message(tracker):
        return
    logger.warning("turn for %s produced no bot message: sending the no-reply message", tracker.sender_id)
    guard.mark_degraded("no_reply")
    event = BotUttered(guard.NO_REPLY, metadata={"guard": "no_reply"})
    tracker.update(event, processor.domain)
    await output_channel.send_response(tracker.sender_id, event.message())


async def _answer_busy(message: Any, reason: str) -> None:
    guard.mark_degraded(reason)
    channel = message.output_channel
    collected = getattr(channel, "messages", None)
    if isinstance(collected, list):
        # what was collected describes a turn that was never saved: do not show it
        collected.clear()
    try:
        await channel.send_response(message.sender_id, {"text": guard.BUSY})
    except Exception:  # noqa: BLE001
        logger.exception("could not deliver the busy message to %s", message.sender_id)


def _never_silent_handle_message() -> Any:
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.data import TrainingType

    async def handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        # Rasa 3.6.21 MessageProcessor.handle_message, plus the no-silence guard.
        tracker = await self.log_message(message, should_save_tracker=False)
        if self.model_metadata.training_type == TrainingType.NLU:
            await self.save_tracker(tracker)
            return None
        tracker = await self.run_action_extract_slots(message.output_channel, tracker)
        await self._run_prediction_loop(message.output_channel, tracker)
        await _ensure_reply_on_tracker(self, tracker, message.output_channel)
        await self.run_anonymization_pipeline(tracker)
        await self.save_tracker(tracker)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    handle_message._credit_hardened = True  # type: ignore[attr-defined]
    return handle_message


def _answering_agent_handle_message() -> Any:
    from rasa.core.channels.channel import CollectingOutputChannel

    original_agent_handle = original(AGENT_HANDLE)

    async def agent_handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        token = guard.start_turn(message.sender_id or "")
        try:
            if not self.is_ready():
                logger.error("message for %s arrived before the model was loaded", message.sender_id)
                await _answer_busy(message, "not_ready")
            else:
                return await original_agent_handle(self, message)
        except asyncio.CancelledError:
            raise
        except guard.TrackerStoreUnavailable as error:
            logger.error("conversation %s not handled: tracker store unavailable (%s)", message.sender_id,
                         mask_pii(str(error.__cause__ or error))[:300])
            await _answer_busy(message, "tracker_store")
        except Exception as error:  # noqa: BLE001 - lock store down, bug: answer, never silence
            reason = "lock_store" if "lock" in type(error).__name__.lower() or "redis" in type(error).__module__ \
                else "internal_error"
            logger.exception("conversation %s not handled (%s)", message.sender_id, reason)
            await _answer_busy(message, reason)
        finally:
            guard.end_turn(token)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    return agent_handle_message


@register("processor", MEMBERS)
def apply(settings: Settings) -> None:
    """Never a silent turn: a turn without a bot message, or one that fails, gets a polite reply."""
    replace(HANDLE, _never_silent_handle_message())
    replace(AGENT_HANDLE, _answering_agent_handle_message())
