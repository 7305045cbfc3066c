"""Server-side sessions: a random token in an HttpOnly, SameSite=Strict cookie; only its hash is stored.

A session ends after `idle` seconds without a request (default 30 minutes) or 12 hours at most.
Each session has its own CSRF token, which every state-changing request must send back.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Optional, Tuple

from ops.project import Project
from ops.statedb import connect

MAX_AGE_S = 12 * 3600


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(project: Project, username: str) -> Tuple[str, str]:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    conn = connect(project)
    try:
        conn.execute("DELETE FROM sessions WHERE last_seen < ?", (now - MAX_AGE_S,))
        conn.execute("INSERT INTO sessions (token_hash, username, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
                     (_hash(token), username, csrf, now, now))
    finally:
        conn.close()
    return token, csrf


def lookup(project: Project, token: Optional[str], idle_s: float) -> Optional[Tuple[str, str]]:
    """(username, csrf) of a live session, refreshing its idle timer; None when absent or expired."""
    if not token or len(token) > 100:
        return None
    now = time.time()
    conn = connect(project)
    try:
        row = conn.execute("SELECT * FROM sessions WHERE token_hash = ?", (_hash(token),)).fetchone()
        if row is None:
            return None
        if row["last_seen"] < now - idle_s or row["created_at"] < now - MAX_AGE_S:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))
            return None
        conn.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, _hash(token)))
        return row["username"], row["csrf"]
    finally:
        conn.close()


def destroy(project: Project, token: Optional[str]) -> None:
    if token:
        conn = connect(project)
        try:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))
        finally:
            conn.close()


def destroy_user(project: Project, username: str) -> None:
    conn = connect(project)
    try:
        conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
    finally:
        conn.close()
