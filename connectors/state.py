"""Small key-value store shared by all Sanic workers of one host (SQLite, WAL).

Used for what the channels must agree on across worker processes: WeChat retry
de-duplication (an atomic claim per MsgId), the WeChat access token, WeChat numbered
menus and per-call state of the voice channels.  The file is ``CHANNEL_STATE_DB``
(default ``var/channel_state.db``); every value has an expiry.

Operations are single short SQLite statements, fast enough to run on the event loop.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Dict

logger = logging.getLogger(__name__)

DEFAULT_PATH = "var/channel_state.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
)
"""


class StateStore:
    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get("CHANNEL_STATE_DB") or DEFAULT_PATH
        if self.path != ":memory:":
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
        self._local = threading.local()
        self._memory_conn: sqlite3.Connection | None = None
        with self._conn() as conn:
            conn.execute(_SCHEMA)
        self._last_purge = 0.0

    def _conn(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._memory_conn is None:
                self._memory_conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            return self._memory_conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            self._local.conn = conn
        return conn

    def _purge(self) -> None:
        now = time.time()
        if now - self._last_purge > 60:
            self._last_purge = now
            self._conn().execute("DELETE FROM kv WHERE expires_at < ?", (now,))

    def claim(self, key: str, value: Any, ttl: float) -> bool:
        """Store ``value`` under ``key`` unless a live entry exists; True if this call won."""
        self._purge()
        now = time.time()
        conn = self._conn()
        conn.execute("DELETE FROM kv WHERE key = ? AND expires_at < ?", (key, now))
        cursor = conn.execute(
            "INSERT OR IGNORE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
            (key, json.dumps(value, ensure_ascii=False), now + ttl),
        )
        return cursor.rowcount == 1

    def get(self, key: str, default: Any = None) -> Any:
        row = self._conn().execute(
            "SELECT value FROM kv WHERE key = ? AND expires_at >= ?", (key, time.time())
        ).fetchone()
        return json.loads(row[0]) if row else default

    def set(self, key: str, value: Any, ttl: float) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
            (key, json.dumps(value, ensure_ascii=False), time.time() + ttl),
        )

    def compare_and_set(self, key: str, expected: Any, value: Any, ttl: float) -> bool:
        """Replace the value only if it currently equals ``expected``; True if replaced."""
        cursor = self._conn().execute(
            "UPDATE kv SET value = ?, expires_at = ? WHERE key = ? AND value = ? AND expires_at >= ?",
            (
                json.dumps(value, ensure_ascii=False),
                time.time() + ttl,
                key,
                json.dumps(expected, ensure_ascii=False),
                time.time(),
            ),
        )
        return cursor.rowcount == 1

    def delete(self, key: str) -> None:
        self._conn().execute("DELETE FROM kv WHERE key = ?", (key,))


_stores: Dict[str, StateStore] = {}
_lock = threading.Lock()


def shared_store(path: str | None = None) -> StateStore:
    """One ``StateStore`` per file and process."""
    resolved = path or os.environ.get("CHANNEL_STATE_DB") or DEFAULT_PATH
    with _lock:
        if resolved not in _stores:
            _stores[resolved] = StateStore(resolved)
        return _stores[resolved]
