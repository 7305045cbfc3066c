"""Output channel that keeps Rasa's bot messages whole.

Rasa's ``OutputChannel.send_response`` splits a bot message into text / buttons /
custom calls and drops the rest (``utter_action``).  The channels here render complete
messages themselves (``connectors.render``), so they record them as they are.
"""
from __future__ import annotations

import copy
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import OutputChannel

KEPT_KEYS = ("text", "buttons", "quick_replies", "image", "attachment", "custom", "elements", "utter_action")


class RecordingOutput(OutputChannel):
    """Collects bot messages; ``name`` selects channel-specific responses in the domain."""

    def __init__(
        self,
        channel_name: str,
        on_message: Callable[[Dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self._name = channel_name
        self.messages: List[Dict[str, Any]] = []
        self._on_message = on_message

    def name(self) -> str:  # type: ignore[override]  # instance-level: one class, several channels
        return self._name

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        kept = {k: copy.deepcopy(message[k]) for k in KEPT_KEYS if message.get(k) not in (None, "", [])}
        if not kept:
            return
        self.messages.append(kept)
        if self._on_message is not None:
            await self._on_message(kept)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})
