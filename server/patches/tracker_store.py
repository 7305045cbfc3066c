"""Tracker store: failures are explicit, personal data is masked at rest, SQLite runs in WAL.

* Rasa's ``FailSafeTrackerStore`` returns ``None`` on a read error (the conversation
  silently restarts) and keeps the tracker in memory on a write error; here both raise
  :class:`server.guard.TrackerStoreUnavailable`, which the processor patch answers with
  :data:`server.guard.BUSY` (nothing is answered from an empty conversation).
* PostgreSQL connections are pre-pinged, so the store recovers by itself after a database
  restart; missing tables are created before the first read or write (Rasa creates them
  once at start-up and carries on if the database was down then).
* ``SQLTrackerStore.save`` is a copy of Rasa 3.6.21's that masks personal data in every
  event before it is written (:func:`server.at_rest.mask_event_dict`).
* A SQLite tracker store runs in WAL mode with ``synchronous=FULL`` (still durable).
* ``SQLTrackerStore._retrieve`` is a copy of Rasa 3.6.21's that selects only the ``data`` column of
  Rasa's own query: Rasa builds an ORM object for every event row of the session and then reads
  only that column; at the end of a 20-message session the row objects were the largest cost that
  grows with the session (issue 25, docs/benchmarks.md "Where a turn's CPU goes within a session").
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict

from credit.text.masking import mask_pii
from server import guard
from server.at_rest import mask_event_dict
from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

_MODULE = "rasa.core.tracker_store"


def _fail_safe(name: str, how: How, sha256: str) -> Member:
    return Member(_MODULE, f"FailSafeTrackerStore.{name}", how, sha256)


FAIL_SAFE_INIT = _fail_safe("__init__", How.USED,
                            "fb38b18c42e979e6a4b2b70b07d48d63c3a783113912a935d5b8017e0bdcfd2c")
RETRIEVE = _fail_safe("retrieve", How.REPLACED,
                      "41ae581104daab90ae265a8e8b6f10ef8ba631f5060332842cc8348ca7c2343b")
RETRIEVE_FULL = _fail_safe("retrieve_full_tracker", How.REPLACED,
                           "9477d27114c45667b9614b61bc34e3481f562aa407b2dad700495f78f52fcc0d")
SAVE = _fail_safe("save", How.REPLACED,
                  "b566ffd20f488ac1263906ce3a41c96b9c3436a65576712a0950aae0774c8aa5")
KEYS = _fail_safe("keys", How.REPLACED,
                  "5c369ca022641020e8b816957833631895ce82158e8237850ebb0de40279775e")
ON_ERROR = _fail_safe("on_tracker_store_error", How.REPLACED,
                      "fd448c1f1262aab5fa78f665ded3f7c788ec16d7e5bd9672285f1223cbf43cf4")
ON_RETRIEVE_ERROR = _fail_safe("on_tracker_store_retrieve_error", How.REPLACED,
                               "487e40f086744bbe79c819cd70478caeb92e829a9951c5a1652cd6e0cedbbbb4")
ENGINE_KWARGS = Member(_MODULE, "create_engine_kwargs", How.WRAPPED,
                       "34bf4e91c8a93995563a5f3b3caf5ba12303c21f8df04e46c9ae7e6989caf1af")
SQL_INIT = Member(_MODULE, "SQLTrackerStore.__init__", How.WRAPPED,
                  "a26a40f2ce02fdd1e9322d004e44fa8a561323e2ad9e85d8df84385287468a01")
SQL_RETRIEVE = Member(_MODULE, "SQLTrackerStore._retrieve", How.COPIED,
                      "00141b92c88bad7f858f2b3cce7d5b6891d9b5a77c5da040cebac04fcedbd89d")
SQL_SAVE = Member(_MODULE, "SQLTrackerStore.save", How.COPIED,
                  "87f6e9466fb423f3235028c5f20cd76ac6fdecfe33fd704550f90f972f3867e0")
SQL_ADDITIONAL_EVENTS = Member(_MODULE, "SQLTrackerStore._additional_events", How.USED,
                               "44f3b6053fd1ea655198c37b4f60711e4a711a5898df144c0d63d67f8d744bd3")
SQL_EVENT_QUERY = Member(_MODULE, "SQLTrackerStore._event_query", How.USED,
                         "7cc9e9f43e2d0c5d3bd57b07283d8161bd8851429feb1bc3659f12844c04609a")
MEMBERS = (FAIL_SAFE_INIT, RETRIEVE, RETRIEVE_FULL, SAVE, KEYS, ON_ERROR, ON_RETRIEVE_ERROR,
           ENGINE_KWARGS, SQL_INIT, SQL_RETRIEVE, SQL_SAVE, SQL_ADDITIONAL_EVENTS, SQL_EVENT_QUERY)


# ------------------------------------------------------------------- explicit failures


def _raise(self: Any, operation: str, error: Exception) -> None:
    try:
        self.on_tracker_store_error(error)
    except Exception:  # noqa: BLE001
        pass
    raise guard.TrackerStoreUnavailable(
        f"{operation} failed on {type(self._tracker_store).__name__}: {type(error).__name__}") from error


async def retrieve(self: Any, sender_id: str) -> Any:
    try:
        return await self._tracker_store.retrieve(sender_id)
    except Exception as error:  # noqa: BLE001
        _raise(self, "retrieve", error)


async def retrieve_full_tracker(self: Any, sender_id: str) -> Any:
    try:
        return await self._tracker_store.retrieve_full_tracker(sender_id)
    except Exception as error:  # noqa: BLE001
        _raise(self, "retrieve_full_tracker", error)


async def save(self: Any, tracker: Any) -> None:
    try:
        await self._tracker_store.save(tracker)
    except Exception as error:  # noqa: BLE001
        _raise(self, "save", error)


async def keys(self: Any) -> Any:
    try:
        return await self._tracker_store.keys()
    except Exception as error:  # noqa: BLE001
        _raise(self, "keys", error)


def on_tracker_store_error(self: Any, error: Exception) -> None:
    logger.error("tracker store %s failed: %s: %s", type(self._tracker_store).__name__,
                 type(error).__name__, mask_pii(str(error))[:300])


# ------------------------------------------------------------------------- SQL store


def _pre_pinged_engine_kwargs() -> Any:
    original_kwargs = original(ENGINE_KWARGS)

    def create_engine_kwargs(url: Any) -> Dict[str, Any]:
        kwargs = dict(original_kwargs(url))
        kwargs.setdefault("pool_pre_ping", True)
        return kwargs

    return create_engine_kwargs


def _sql_init_with_sqlite_pragmas() -> Any:
    original_init = original(SQL_INIT)

    def sql_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
                # WAL: one fsync per commit instead of two, readers never block the writer;
                # synchronous=FULL keeps every committed turn across a power cut too.
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute("PRAGMA journal_mode = WAL")
                    cursor.execute("PRAGMA synchronous = FULL")
                    cursor.execute("PRAGMA busy_timeout = 5000")
                finally:
                    cursor.close()

            self.engine.dispose()  # connections opened during start-up get the pragmas too

    return sql_init


def _ensure_tables(store: Any) -> None:
    # Rasa creates the tables once at start-up and carries on if the database was down
    # then; create them (idempotent) before the first read or write instead.
    if not getattr(store, "_credit_tables_ready", False):
        store.Base.metadata.create_all(store.engine)
        store._credit_tables_ready = True


async def sql_retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    # Rasa 3.6.21 SQLTrackerStore._retrieve: the same query (same filter, same order), the data column only.
    from rasa.shared.core.trackers import DialogueStateTracker

    _ensure_tables(self)
    with self.session_scope() as session:
        query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
        events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
    if self.domain and events:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    return None


sql_retrieve._credit_hardened = True  # type: ignore[attr-defined]


async def sql_save(self: Any, tracker: Any) -> None:
    # Rasa 3.6.21 SQLTrackerStore.save, with personal data masked before it is written.
    _ensure_tables(self)
    await self.stream_events(tracker)
    with self.session_scope() as session:
        for event in self._additional_events(session, tracker):
            data = mask_event_dict(event.as_dict())
            intent = (data.get("parse_data") or {}).get("intent", {}).get("name")
            session.add(self.SQLEvent(
                sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                intent_name=intent, action_name=data.get("name"), data=json.dumps(data)))
        session.commit()
    logger.debug("tracker %s stored (masked)", tracker.sender_id)


sql_save._credit_hardened = True  # type: ignore[attr-defined]


@register("tracker_store", MEMBERS)
def apply(settings: Settings) -> None:
    """Tracker store failures raise instead of restarting the conversation; SQL events masked at rest."""
    for member, new in ((RETRIEVE, retrieve), (RETRIEVE_FULL, retrieve_full_tracker), (SAVE, save),
                        (KEYS, keys), (ON_ERROR, on_tracker_store_error),
                        (ON_RETRIEVE_ERROR, on_tracker_store_error)):
        replace(member, new)
    replace(ENGINE_KWARGS, _pre_pinged_engine_kwargs())
    replace(SQL_INIT, _sql_init_with_sqlite_pragmas())
    replace(SQL_RETRIEVE, sql_retrieve)
    replace(SQL_SAVE, sql_save)
