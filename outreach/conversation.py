"""Writes a delivered notice into the customer's conversation, so that the assistant (and an agent
reading the conversation) knows what the customer is answering.

Rasa's external-intent mechanism: ``POST /conversations/<id>/trigger_intent`` with the outreach-only
intent ``EXTERNAL_outreach_notice`` and the notice's id.  Without an ``output_channel`` Rasa collects the
bot's words instead of sending them, so the notice is *not* delivered a second time through the
channel's output; it only becomes part of the conversation.  The conversation id is the channel's
namespaced id (``wx:<openid>``); SMS has no conversation, and an outbound call writes its own when it is
answered (connectors/external.py).

The reply to a notice does not depend on this write: its context is read from the database
(credit/outreach/context.py).  A failed write is therefore recorded in the audit trail, not retried.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Dict, Optional

from connectors import ids

INTENT = "EXTERNAL_outreach_notice"
CONVERSATION_PREFIX: Dict[str, str] = {"wechat": ids.WECHAT}  # channels whose notices have a conversation


@dataclass(frozen=True)
class RasaConversations:
    url: str  # the Rasa server's base URL
    token: str  # its --auth-token (RASA_AUTH_TOKEN)
    timeout: float = 10.0

    @staticmethod
    def conversation_id(channel: str, address: str) -> Optional[str]:
        prefix = CONVERSATION_PREFIX.get(channel)
        if prefix is None or not ids.is_valid_raw_id(address):
            return None
        return ids.namespaced(prefix, address)

    def write(self, channel: str, address: str, notice_id: int) -> Optional[str]:
        """None when written (or when the channel has no conversation); else why not, for the audit trail."""
        conversation = self.conversation_id(channel, address)
        if conversation is None:
            return None
        path = urllib.parse.quote(conversation, safe=":")  # Rasa does not unquote %3A in the id
        query = urllib.parse.urlencode({"token": self.token, "include_events": "NONE"})
        body = json.dumps({"name": INTENT, "entities": {"notice_id": str(notice_id)}}).encode()
        request = urllib.request.Request(f"{self.url.rstrip('/')}/conversations/{path}/trigger_intent?{query}",
                                         data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - our own server
                response.read()
            return None
        except urllib.error.HTTPError as error:
            return f"写入对话失败：Rasa 返回 HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            return f"写入对话失败：Rasa 不可达（{type(error).__name__}）"


def conversations_from_env(environ: Optional[Dict[str, str]] = None) -> Optional[RasaConversations]:
    """From ``RASA_URL`` (the first, when several are listed) and ``RASA_AUTH_TOKEN``; None without them."""
    env = os.environ if environ is None else environ
    url = (env.get("RASA_URL") or "").split(",")[0].strip()
    token = (env.get("RASA_AUTH_TOKEN") or "").strip()
    return RasaConversations(url, token) if url and token else None


__all__ = ["INTENT", "RasaConversations", "conversations_from_env"]
