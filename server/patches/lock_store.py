"""Lock store: one conversation's turns run one at a time, in arrival order, without polling.

In-memory (one process, ``make run``): Rasa's ``InMemoryLockStore`` hands out tickets and
every waiter re-checks its ticket once a second (``wait_time_in_seconds=1``), so a burst of
messages from one sender drained at about one message per second, and a ticket expires 60 s
after it was issued even while its message is still queued.  Here each conversation has an
``asyncio.Lock`` (first come, first served: a new arrival queues behind the waiters), so the
next queued turn starts the moment the previous one ends.  A waiter gives up with
``LockError`` (answered politely upstream) after the lock lifetime plus 5 s; the REST
channel's admission limit (:mod:`connectors.admission`) keeps queues far shorter than that.

Redis (several processes): the conversation lock made atomic.

Rasa's ``RedisLockStore`` issues tickets with GET, modify, SET: two Rasa servers taking
messages of one conversation at the same moment can both believe they hold the lock, and
the second tracker save then silently drops the other server's turn.  Here the lock is one
atomic ``SET NX PX`` per conversation (released with compare-and-delete), polled every
20-200 ms; it expires after the lock lifetime if its holder died.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, Dict

from server.patches.registry import How, Member, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

# inherited from LockStore.lock in Rasa 3.6.21; the replacement is set on RedisLockStore only
LOCK = Member("rasa.core.lock_store", "RedisLockStore.lock", How.REPLACED,
              "99a8e872376330d4dcae21b820451f829e04f578604513d0ef858ce5a82ba1b1")
REDIS_INIT = Member("rasa.core.lock_store", "RedisLockStore.__init__", How.USED,  # sets red, key_prefix
                    "99a7d60457abe0612a309aa78aa625ac08a15509177971a2a1cb659214400540")
# inherited from LockStore.lock as well; the replacement is set on InMemoryLockStore only
MEMORY_LOCK = Member("rasa.core.lock_store", "InMemoryLockStore.lock", How.REPLACED,
                     "99a8e872376330d4dcae21b820451f829e04f578604513d0ef858ce5a82ba1b1")
MEMBERS = (LOCK, REDIS_INIT, MEMORY_LOCK)

# Release only our own lock (compare-and-delete).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def _atomic_lock() -> Any:
    import rasa.core.lock_store as lock_module

    @asynccontextmanager
    async def lock(self: Any, conversation_id: str, lock_lifetime: float = lock_module.LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> Any:
        key = f"{self.key_prefix}mutex:{conversation_id}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + lock_lifetime + 5
        delay = 0.02
        try:
            while not self.red.set(key, token, nx=True, px=int(lock_lifetime * 1000)):
                if time.monotonic() > deadline:
                    raise lock_module.LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                await asyncio.sleep(delay + random.uniform(0, delay / 2))
                delay = min(delay * 1.5, 0.2)
        except lock_module.LockError:
            raise
        except Exception as error:  # redis down: a lock error, answered politely upstream
            raise lock_module.LockError(f"Error while acquiring lock. Error:\n{error}") from error
        try:
            yield lock_module.TicketLock(conversation_id)
        finally:
            try:
                self.red.eval(_RELEASE, 1, key, token)
            except Exception:  # noqa: BLE001 - the lock expires by itself
                logger.exception("could not release the lock of %s (it expires after %s s)",
                                 conversation_id, lock_lifetime)

    return lock


class _Queue:
    """One conversation's lock and the number of turns holding or waiting for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


def _fifo_lock() -> Any:
    import rasa.core.lock_store as lock_module

    @asynccontextmanager
    async def lock(self: Any, conversation_id: str, lock_lifetime: float = lock_module.LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> Any:
        queues: Dict[str, _Queue] = self.__dict__.setdefault("_credit_queues", {})
        queue = queues.get(conversation_id)
        if queue is None:
            queue = queues[conversation_id] = _Queue()
        queue.users += 1
        try:
            try:
                await asyncio.wait_for(queue.lock.acquire(), timeout=lock_lifetime + 5)
            except asyncio.TimeoutError:
                raise lock_module.LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}'.") from None
            try:
                yield lock_module.TicketLock(conversation_id)
            finally:
                queue.lock.release()
        finally:
            queue.users -= 1
            if queue.users == 0 and queues.get(conversation_id) is queue:
                del queues[conversation_id]

    return lock


@register("lock_store", MEMBERS)
def apply(settings: Settings) -> None:
    """In-memory lock: FIFO asyncio lock per conversation, no polling; Redis: one atomic SET NX PX."""
    replace(LOCK, _atomic_lock())
    replace(MEMORY_LOCK, _fifo_lock())
