"""The business logic's clock: real UTC time, or, for end-to-end tests only, a clock that
starts at ``CREDIT_FAKE_NOW`` (ISO 8601 with offset, e.g. ``2026-12-01T22:30:00+08:00``) when
the process starts and runs on from there.  The action server refuses ``CREDIT_FAKE_NOW``
unless ``HARDENING_MODE=development`` (``python -m server actions``), so production always runs
on real time.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache

FAKE_NOW_VARIABLE = "CREDIT_FAKE_NOW"
_STARTED = time.monotonic()


@lru_cache(maxsize=4)
def _parse(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{FAKE_NOW_VARIABLE}={value!r} 不是 ISO 8601 时间 / is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def fake_now_configured() -> bool:
    return bool((os.environ.get(FAKE_NOW_VARIABLE) or "").strip())


def refuse_fake_clock_in_production() -> None:
    """Stop a process that would run on the test clock outside ``HARDENING_MODE=development``."""
    if fake_now_configured() and (os.environ.get("HARDENING_MODE") or "").strip().lower() != "development":
        raise SystemExit(f"{FAKE_NOW_VARIABLE} 只用于测试，需要 HARDENING_MODE=development / "
                         f"{FAKE_NOW_VARIABLE} is for tests only and needs HARDENING_MODE=development")


def now() -> datetime:
    """Aware UTC now (or the test clock)."""
    fake = (os.environ.get(FAKE_NOW_VARIABLE) or "").strip()
    if not fake:
        return datetime.now(timezone.utc)
    return (_parse(fake) + timedelta(seconds=time.monotonic() - _STARTED)).astimezone(timezone.utc)
