"""Production settings, read from the environment in one place (secrets never come from files).

Each variable, its default, and what it is for:

* ``ACTION_TIMEOUT_S`` (5): cap on one call from Rasa to the action server (Rasa's own
  default is 300 s);
* ``ACTION_HOST`` (127.0.0.1): interface the action server binds (``python -m server actions``);
* ``REST_AUTH_TOKEN`` (unset): bearer token the REST channel requires; unset: loopback callers only;
* ``RASA_AUTH_TOKEN`` / ``RASA_JWT_SECRET`` (+ ``RASA_JWT_METHOD``) (unset): Rasa HTTP API
  protection; ``--enable-api`` without either is refused;
* ``RETENTION_CONVERSATIONS_DAYS`` (180): tracker events, hand-offs, verification audit, SMS outbox;
* ``RETENTION_TICKETS_DAYS`` (1095): tickets and risk events (3 years);
* ``RETENTION_EXPORTS_DAYS`` (30): export files under ``EXPORT_DIR``;
* ``RETENTION_CREDENTIALS_DAYS`` (1): expired one-time codes and verifications (kept a day after expiry);
* ``RETENTION_AUDIT_DAYS`` (1095): the ops audit log and handled PIPL requests (who saw or did what to
  whose data), purged by ``python -m ops.privacy.retention`` (``make purge`` runs both);
* ``EXPORT_DIR`` (``var/ops``): where ops exports are written (``python -m ops export``;
  relative to the project root);
* ``EXPORT_PATTERNS`` (``review_*.xlsx,review_*.csv``): which files there are exports
  (others, e.g. lock files, are never purged);
* ``SESSION_MAX_TURNS`` (20): customer messages in one conversation session before a new session
  starts that carries everything over (slots, active form), so a turn's cost stays flat however
  long the conversation (:mod:`server.patches.sessions`);
* ``REST_MAX_QUEUED_PER_SENDER`` (32): messages one REST sender may have running or queued
  before the next is refused with 429 (:mod:`connectors.admission`);
* ``TRACKER_STORE_URL`` (from ``endpoints.yml``): SQLAlchemy URL of the tracker store, for
  the purge command.

How the hardening itself is allowed to start (``HARDENING_MODE``, ``HARDENING_DISABLE``):
:mod:`server.hardening`.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_ACTION_TIMEOUT_S = 5.0
DEFAULT_ACTION_HOST = "127.0.0.1"
DEFAULT_SESSION_MAX_TURNS = 20
DEFAULT_RETENTION_DAYS = {
    "conversations": 180,
    "tickets": 3 * 365,
    "exports": 30,
    "credentials": 1,
    "audit": 3 * 365,
}


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    if value < minimum:
        logger.warning("%s=%r is below %s; using %s", name, raw, minimum, minimum)
        return minimum
    return value


@dataclass(frozen=True)
class Retention:
    conversations_days: int
    tickets_days: int
    exports_days: int
    credentials_days: int
    export_dir: Path
    export_patterns: Tuple[str, ...] = ("review_*.xlsx", "review_*.csv")
    audit_days: int = DEFAULT_RETENTION_DAYS["audit"]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Retention":
        def days(kind: str) -> int:
            name = f"RETENTION_{kind.upper()}_DAYS"
            return int(_number(env, name, DEFAULT_RETENTION_DAYS[kind], minimum=1))

        export_dir = Path(env.get("EXPORT_DIR") or "var/ops")
        if not export_dir.is_absolute():
            export_dir = PROJECT_ROOT / export_dir
        patterns = tuple(p.strip() for p in (env.get("EXPORT_PATTERNS") or "").split(",") if p.strip())
        return cls(days("conversations"), days("tickets"), days("exports"), days("credentials"), export_dir,
                   patterns or ("review_*.xlsx", "review_*.csv"), days("audit"))


@dataclass(frozen=True)
class Settings:
    action_timeout_s: float
    action_host: str
    rest_auth_token: Optional[str]
    retention: Retention
    session_max_turns: int = DEFAULT_SESSION_MAX_TURNS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        token = (env.get("REST_AUTH_TOKEN") or "").strip() or None
        return cls(
            action_timeout_s=_number(env, "ACTION_TIMEOUT_S", DEFAULT_ACTION_TIMEOUT_S, minimum=0.5),
            action_host=(env.get("ACTION_HOST") or "").strip() or DEFAULT_ACTION_HOST,
            rest_auth_token=token,
            retention=Retention.from_env(env),
            session_max_turns=int(_number(env, "SESSION_MAX_TURNS", DEFAULT_SESSION_MAX_TURNS, minimum=2)),
        )


def settings(env: Mapping[str, str] | None = None) -> Settings:
    return Settings.from_env(os.environ if env is None else env)
