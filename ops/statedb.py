"""The console's own small database: users, sessions, CLI tokens, audit log, inbox decisions, jobs, PIPL requests.

SQLite (WAL, busy timeout) at `var/ops/console.db` under the project root, or the file named by
`OPS_CONSOLE_DB`. The CLI (`python -m ops user …`) and the console open the same file, so a user
added on the command line can log in at once. Every table (and every column added since,
:data:`ADDED_COLUMNS`) is created on first use.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from ops.project import Project

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, display TEXT NOT NULL DEFAULT '', password_hash TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 1,
    failed INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, created_by TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
    created_at REAL NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cli_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT, token_hash TEXT NOT NULL UNIQUE, username TEXT NOT NULL,
    kind TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', os_user TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '', created_by TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    expires_at REAL NOT NULL, last_used REAL, uses_left INTEGER, revoked_at REAL,
    revoked_by TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS inbox_decisions (
    key TEXT PRIMARY KEY, decision TEXT NOT NULL, intent TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', by TEXT NOT NULL, at REAL NOT NULL,
    batch INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, args TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL, state TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,
    exit_code INTEGER, log TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS pipl_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, lookup TEXT NOT NULL, senders TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', requested_by TEXT NOT NULL, requested_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', decided_by TEXT NOT NULL DEFAULT '', decided_at REAL,
    result TEXT NOT NULL DEFAULT '', customers TEXT NOT NULL DEFAULT '[]');
"""
# Columns added after a table was first created: (table, column, definition).  CREATE TABLE IF NOT EXISTS
# leaves an existing table as it was, so each is added on first use of an older file.
ADDED_COLUMNS = (("pipl_requests", "customers", "TEXT NOT NULL DEFAULT '[]'"),
                 # where a command-line entry came from: the OS user and host, and how the account was proven
                 ("audit", "os_user", "TEXT NOT NULL DEFAULT ''"), ("audit", "host", "TEXT NOT NULL DEFAULT ''"),
                 ("audit", "via", "TEXT NOT NULL DEFAULT ''"))

_LOCK = threading.Lock()


def db_path(project: Project) -> Path:
    override = os.environ.get("OPS_CONSOLE_DB")
    return Path(override) if override else project.root / "var" / "ops" / "console.db"


def connect(project: Project) -> sqlite3.Connection:
    path = db_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    with _LOCK:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.executescript(SCHEMA)
        _add_columns(conn)
    return conn


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, definition in ADDED_COLUMNS:
        if column in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            continue
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        except sqlite3.OperationalError as error:  # another process added it a moment ago
            if "duplicate column" not in str(error):
                raise
