"""Database access shared by the service's parts: one transaction per call, one clock.

Every public service operation runs in :meth:`Store.session`; a database that cannot
be reached surfaces as :class:`credit.errors.ServiceUnavailable`, so the dialogue can
apologise instead of crashing.  The clock is injectable for tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from credit.db.base import as_utc, utcnow
from credit.db.engine import session_scope
from credit.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class Store:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def now(self) -> datetime:
        return as_utc(self.clock())

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with session_scope(self.engine) as session:
                yield session
        except (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError) as exc:
            log.error("database unavailable: %s", exc)
            raise ServiceUnavailable("系统繁忙，暂时无法查询，请稍后再试") from exc
