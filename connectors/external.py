"""An external intent triggered in process: what Rasa's ``POST /conversations/<id>/trigger_intent``
route does (rasa/server.py, Rasa 3.6.21), for a channel that already holds the agent — an outbound call
opens its conversation with ``EXTERNAL_outreach_notice`` instead of a customer message.

The same steps as the route: the conversation's lock (one turn at a time, in order), the tracker
fetched with its session updated, the intent checked against the domain, then
``Agent.trigger_intent`` with the channel's own output, so the bot's words go where the channel
renders them (a call's first prompts).  The turn runs in a :mod:`server.guard` turn state like a
customer message, so a failing action server is apologised for once.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa.core.channels.channel import OutputChannel

from server import guard

logger = logging.getLogger(__name__)


class UnknownIntent(ValueError):
    """The intent is not in the loaded model's domain (the route's 404)."""


class AgentNotReady(RuntimeError):
    """No model is loaded yet."""


def _entity_list(entities: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"entity": name, "value": value} for name, value in entities.items()]


async def trigger_external(agent: Any, sender_id: str, intent: str, entities: Dict[str, Any],
                           output: OutputChannel, metadata: Dict[str, Any] | None = None) -> None:
    """Trigger ``intent`` with ``entities`` (``{"notice_id": "42"}``) in conversation ``sender_id``; the
    bot's messages go to ``output``.  ``metadata`` goes to a session started here
    (``session_started_metadata``).  Raises :class:`AgentNotReady`, :class:`UnknownIntent`, or whatever
    the tracker or lock store raise."""
    if agent is None or not agent.is_ready():
        raise AgentNotReady("no model loaded")
    token = guard.start_turn(sender_id)
    try:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.processor.fetch_tracker_and_update_session(sender_id, output, metadata)
            if intent not in agent.domain.intents:
                raise UnknownIntent(f"the intent {intent} does not exist in the domain")
            await agent.trigger_intent(intent_name=intent, entities=_entity_list(entities),
                                       output_channel=output, tracker=tracker)
    finally:
        guard.end_turn(token)


__all__ = ["AgentNotReady", "UnknownIntent", "trigger_external"]
