"""Fixtures of the credit.service.LoanService tests: a real SQLite file and an injectable clock.

``svc`` here overrides the one in tests/unit/conftest.py for this folder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

# the kit's helpers assert; rewrite them as pytest did while they lived in the test module
pytest.register_assert_rewrite("tests.unit.credit.service.service_kit")

from credit.db.engine import get_engine, init_db  # noqa: E402
from credit.seed import seed  # noqa: E402
from credit.service import LoanService  # noqa: E402
from credit.sms.gateway import OutboxSmsGateway  # noqa: E402
from tests.unit.credit.service.service_kit import START  # noqa: E402


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture()
def clock() -> Clock:
    return Clock(START)


@pytest.fixture()
def engine(tmp_path: Path):
    eng = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def svc(engine, clock) -> LoanService:
    seed(engine, now=clock.now)
    return LoanService(engine, clock=clock, sms=OutboxSmsGateway(engine))
