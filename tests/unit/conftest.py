"""The actions' service on a fresh, seeded SQLite file (modules with their own ``svc`` override it)."""
from __future__ import annotations

import pytest

from actions import common
from credit.db.engine import get_engine, init_db
from credit.seed import seed
from credit.service import LoanService


@pytest.fixture()
def svc(tmp_path, monkeypatch) -> LoanService:
    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    seed(engine, reset=True)
    service = LoanService(engine)
    monkeypatch.setattr(common, "_service", service)
    return service
