"""One telephone event through the dialogue: call state in the shared store, the turn via
Rasa, the form's requested slot from the tracker, the reply shaped by the engine."""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage

from connectors import ids
from connectors.http import env_float
from connectors.outputs import RecordingOutput
from connectors.render import render_voice
from connectors.state import StateStore, shared_store
from connectors.voice.engine import CallState, VoiceAction, VoiceEngine, VoiceEvent, VoiceTurn

logger = logging.getLogger(__name__)

CALL_STATE_TTL_S = 4 * 3600
TURN_FAILED = "抱歉，系统暂时繁忙，正在为您转接人工客服，请稍候。"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
SlotLookup = Callable[[str], Awaitable[str | None]]


def engine_from_env(environ: Dict[str, str] | None = None) -> VoiceEngine:
    env = os.environ if environ is None else environ
    return VoiceEngine(
        min_confidence=env_float(env, "VOICE_MIN_CONFIDENCE", 0.5, minimum=0.0),
        max_reprompts=int(env_float(env, "VOICE_MAX_REPROMPTS", 2, minimum=0)),
    )


def tracker_slot_lookup(app: Any) -> SlotLookup:
    """Reads ``requested_slot`` of the active form from Rasa's tracker store."""

    async def lookup(sender_id: str) -> str | None:
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return None
        tracker = await tracker_store.retrieve(sender_id)
        if tracker is None or not tracker.active_loop_name:
            return None
        slot = tracker.get_slot("requested_slot")
        return slot if isinstance(slot, str) else None

    return lookup


class CallRunner:
    def __init__(self, channel: str, prefix: str, engine: VoiceEngine, store: StateStore | None = None) -> None:
        self.channel = channel
        self.prefix = prefix
        self.engine = engine
        self.store = store or shared_store()

    def sender_id(self, call_id: str) -> str:
        return ids.namespaced(self.prefix, call_id)

    async def handle(
        self,
        call_id: str,
        event: VoiceEvent,
        on_new_message: OnNewMessage,
        slot_lookup: SlotLookup | None = None,
        metadata: Dict[str, Any] | None = None,
    ) -> VoiceTurn:
        sender_id = self.sender_id(call_id)
        key = f"call:{sender_id}"
        state = CallState.from_dict(self.store.get(key))
        step = self.engine.before_turn(event, state)
        if step.turn is not None:
            turn = step.turn
        else:
            output = RecordingOutput(self.channel)
            message = UserMessage(
                step.text,
                output,
                sender_id,
                input_channel=self.channel,
                metadata={self.channel: {**(metadata or {}), "event": event.kind}},
            )
            try:
                await on_new_message(message)
                slot = await slot_lookup(sender_id) if slot_lookup else None
            except Exception:  # noqa: BLE001 - the caller hears an apology and reaches an agent
                logger.exception("%s: dialogue turn failed for call %s", self.channel, sender_id)
                state.ended = True
                turn = VoiceTurn(
                    [TURN_FAILED], None, VoiceAction("transfer", queue=self.engine.agent_queue, reason="error")
                )
            else:
                turn = self.engine.after_turn(render_voice(output.messages), state, slot, step.call_start)
        if state.ended or turn.action.type != "continue":
            self.store.delete(key)
        else:
            self.store.set(key, state.to_dict(), CALL_STATE_TTL_S)
        return turn
