"""Admission of a customer message: accepted (and then always processed) or refused up front.

One sender's turns run one at a time (the lock store queues them), so a burst from one
sender builds a queue.  A message is either

* **accepted**: it joins the queue and its turn runs to the end even if the client goes away
  or times out (the turn is shielded from the request's cancellation), so every accepted
  message reaches the tracker store; or
* **refused before it is accepted**: when the sender already has ``limit`` messages running
  or queued in this process, the channel answers ``429 Too Many Requests`` with
  ``Retry-After`` and the message is not stored anywhere: the client sends it again later.

Rasa has no notion of this (a REST request cancelled while waiting for the lock drops the
message: ``rest.message.received.timeout``), hence this small module.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Awaitable, Callable, Dict, List, Optional, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_LIMIT = 32
RETRY_AFTER_S = 2
# an accepted message whose end was never reported (a stream the server never started) stops
# counting after this long, so a sender can never be locked out for good
STALE_AFTER_S = 600.0


def limit_from_env() -> int:
    """``REST_MAX_QUEUED_PER_SENDER`` (default 32): messages one sender may have running or queued."""
    raw = os.environ.get("REST_MAX_QUEUED_PER_SENDER", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"REST_MAX_QUEUED_PER_SENDER must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError("REST_MAX_QUEUED_PER_SENDER must be at least 1")
    return value


class Admission:
    """Per-sender count of accepted, unfinished messages in this process."""

    def __init__(self, limit: Optional[int] = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit if limit is not None else limit_from_env()
        self._clock = clock
        self._in_flight: Dict[str, List[float]] = {}  # sender -> acceptance times, oldest first

    def in_flight(self, sender_id: str) -> int:
        accepted = self._in_flight.get(sender_id)
        if not accepted:
            return 0
        fresh = [t for t in accepted if self._clock() - t < STALE_AFTER_S]
        if len(fresh) != len(accepted):
            logger.warning("%d accepted message(s) of %s never reported their end; no longer counted",
                           len(accepted) - len(fresh), sender_id)
            self._in_flight[sender_id] = fresh
        return len(fresh)

    def try_accept(self, sender_id: str) -> bool:
        """Accept one more message of ``sender_id`` unless its queue is full."""
        if self.in_flight(sender_id) >= self.limit:
            return False
        self._in_flight.setdefault(sender_id, []).append(self._clock())
        return True

    def done(self, sender_id: str) -> None:
        accepted = self._in_flight.get(sender_id)
        if accepted:
            accepted.pop(0)
        if not accepted:
            self._in_flight.pop(sender_id, None)

    async def run_accepted(self, sender_id: str, turn: Awaitable[T]) -> T:
        """Run an accepted message's turn to its end, whatever happens to the waiting request.

        The turn runs in its own task; if the request is cancelled (client gone, server
        response timeout) the turn carries on and its events are stored; the cancellation
        is passed on to the caller.
        """
        task = asyncio.ensure_future(turn)
        task.add_done_callback(lambda _: self.done(sender_id))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            logger.warning("the client of %s left before the answer; the turn is finished and stored anyway",
                           sender_id)
            raise
