"""Engine and session helpers: the database URL, SQLite pragmas, creating and wiping the schema.

* ``DATABASE_URL`` selects the database; the default is ``sqlite:///var/credit.db`` resolved against the
  project root (``var/`` is created on demand); relative SQLite paths too.
* SQLite connections use WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions, so several processes
  can share one file and a read-modify-write cannot interleave.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from credit.db.base import DEFAULT_DATABASE_URL, PROJECT_ROOT, SQLITE_BUSY_TIMEOUT_MS, Base


def resolve_database_url(url: str | None = None) -> str:
    """``url`` or ``$DATABASE_URL`` or the default; relative SQLite paths → project root."""
    raw = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = make_url(raw)
    if parsed.get_backend_name() != "sqlite":
        return raw
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return raw
    path = Path(database)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(parsed.set(database=str(path)))


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: readers in WAL mode are not blocked, and two
        # writers queue on busy_timeout instead of failing with SQLITE_BUSY mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Engine for ``url`` (default ``$DATABASE_URL`` or ``sqlite:///var/credit.db``)."""
    resolved = resolve_database_url(url)
    backend = make_url(resolved).get_backend_name()
    options: dict[str, Any] = {"future": True}
    if backend == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
        database = make_url(resolved).database or ""
        if database in ("", ":memory:"):
            options["poolclass"] = StaticPool  # one shared in-memory database
        else:
            # Keep connections open (SQLAlchemy 1.4 defaults to NullPool for SQLite files,
            # and closing the last WAL connection checkpoints and fsyncs every time).
            options["poolclass"] = QueuePool
    else:
        options["pool_pre_ping"] = True
    options.update(kwargs)
    engine = create_engine(resolved, **options)
    if backend == "sqlite":
        _install_sqlite_pragmas(engine)
    return engine


def init_db(engine: Engine) -> None:
    """Create all tables that do not exist yet (every table module of this package is registered first)."""
    register_tables()
    Base.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = Session(bind=engine, future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def wipe_all(engine: Engine) -> None:
    """Delete every row of every table (children first); the schema stays."""
    register_tables()
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def register_tables() -> None:
    """Import every table module, so that ``Base.metadata`` knows all tables (they register on import)."""
    from credit.db import identity, interceptions, loans, outreach, sms, tickets, wechat  # noqa: F401
