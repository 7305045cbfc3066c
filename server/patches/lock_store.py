"""Lock store: the Redis conversation lock made atomic.

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
from typing import Any

from server.patches.registry import How, Member, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

# inherited from LockStore.lock in Rasa 3.6.21; the replacement is set on RedisLockStore only
LOCK = Member("rasa.core.lock_store", "RedisLockStore.lock", How.REPLACED,
              "99a8e872376330d4dcae21b820451f829e04f578604513d0ef858ce5a82ba1b1")
REDIS_INIT = Member("rasa.core.lock_store", "RedisLockStore.__init__", How.USED,  # sets red, key_prefix
                    "99a7d60457abe0612a309aa78aa625ac08a15509177971a2a1cb659214400540")
MEMBERS = (LOCK, REDIS_INIT)

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


@register("lock_store", MEMBERS)
def apply(settings: Settings) -> None:
    """Redis conversation lock taken with one atomic SET NX PX, released by compare-and-delete."""
    replace(LOCK, _atomic_lock())
