"""WeChat retries: one dialogue turn per message, whichever worker gets the retry.

WeChat waits 5 s for a reply and retries up to three times with the same MsgId (events:
same FromUserName + CreateTime).  Each message gets one ledger entry in the shared
state store:

    processing --(turn done before the deadline)--> passive  (the reply XML is kept)
    processing --(deadline passed)-----------------> async    (delivered via the API)

The first request claims the entry and runs the turn.  A retry never runs a turn: it
answers with the kept passive reply (WeChat did not get the first one), or ``success``
once the message is on the asynchronous path.  A retry that finds the turn still
processing waits up to the deadline and then moves the entry to ``async`` itself; the
worker that owns the turn then delivers through the API.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Dict

from connectors.state import StateStore

LEDGER_TTL_S = 24 * 3600
PROCESSING: Dict[str, Any] = {"state": "processing"}
ASYNC: Dict[str, Any] = {"state": "async"}


class DeliveryLedger:
    def __init__(self, store: StateStore, prefix: str = "wechat-msg:") -> None:
        self.store = store
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + key

    def claim(self, key: str) -> bool:
        """True for the first delivery of a message, False for every retry."""
        return self.store.claim(self._key(key), PROCESSING, LEDGER_TTL_S)

    def entry(self, key: str) -> Dict[str, Any] | None:
        return self.store.get(self._key(key))

    def settle_passive(self, key: str, reply_xml: str) -> bool:
        """processing -> passive; False if a retry already moved it to async."""
        return self.store.compare_and_set(
            self._key(key), PROCESSING, {"state": "passive", "reply": reply_xml}, LEDGER_TTL_S
        )

    def settle_async(self, key: str) -> bool:
        return self.store.compare_and_set(self._key(key), PROCESSING, ASYNC, LEDGER_TTL_S)

    async def wait_settled(self, key: str, timeout: float, poll: float = 0.05) -> Dict[str, Any] | None:
        """The entry once it left ``processing``, or None when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while True:
            entry = self.entry(key)
            if entry is None or entry.get("state") != "processing":
                return entry
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(poll)
