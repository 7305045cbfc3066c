"""A rise of compliance interceptions after a promote (ops/retrain/guard_rise.py): flagged, and named by the
rollback as its reason (CLI output, manifest log, audit log).  Real SQLite credit database, the ops fixture
project, promote against the stand-in of Rasa's HTTP API of tests/ops/retrain/test_promote.py."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest

from credit.db.engine import get_engine, init_db
from credit.guard.records import Intercepted, record
from ops.access import audit
from ops.cli import main
from ops.project import Project
from ops.retrain.guard_rise import MIN_AFTER, rise_after_promote
from ops.retrain.promote import run_promote
from ops.retrain.store import load_manifest
from tests.ops.conftest import Operators
from tests.ops.retrain.test_promote import TOKEN, FakeRasa, fake_candidate, fake_model


@pytest.fixture
def rasa(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRasa]:
    server = FakeRasa()
    monkeypatch.setenv("RASA_URL", server.url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", TOKEN)
    yield server
    server.stop()


@pytest.fixture
def promoted(project: Project, rasa: FakeRasa) -> Project:
    fake_model(project.production_model, "original")
    rasa.model_id = "original"
    run_promote(project, fake_candidate(project, "cand1", "new-one", batch=1), by="bob")
    return project


def _intercept(url: str, model_id: str, when: dt.datetime, rule: str = "promise", n: int = 1) -> None:
    engine = get_engine(url)
    init_db(engine)
    record(engine, [Intercepted(sender_id=f"rest:c{i}", channel="rest", rules=[rule], decision="replaced",
                                text="保证通过", model_id=model_id) for i in range(n)], when)
    engine.dispose()


def test_a_rise_after_the_promote_is_the_reason_of_the_rollback(promoted: Project, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture,
                                                                operators: Operators) -> None:
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    now = dt.datetime.now(dt.timezone.utc)
    _intercept(url, "original", now - dt.timedelta(days=3))  # the model before: 1 in the days before
    _intercept(url, "new-one", now, n=MIN_AFTER + 1)
    _intercept(url, "new-one", now, rule="fee_contradiction")
    rise = rise_after_promote(promoted, url)
    assert rise is not None and rise.after == MIN_AFTER + 2 and rise.model == "cand1"
    assert "合规拦截激增" in rise.reason() and "承诺审批结果或最低利率 4 次" in rise.reason()

    operators.act_as("approver")
    assert main(["rollback", "--project", str(promoted.root), "--credit-db-url", url]) == 0
    out = capsys.readouterr().out
    assert "回滚原因：上线 cand1" in out and "合规拦截激增" in out
    assert "合规拦截激增" in load_manifest(promoted)["log"][-1]["reason"]
    [entry] = audit.entries(promoted, action="rollback")
    assert "合规拦截激增" in entry.detail
    assert rise_after_promote(promoted, url) is None  # rolled back: nothing to flag any more


def test_no_rise_no_reason(promoted: Project, tmp_path: Path, capsys: pytest.CaptureFixture,
                           operators: Operators) -> None:
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    now = dt.datetime.now(dt.timezone.utc)
    _intercept(url, "new-one", now, n=MIN_AFTER - 1)  # too few
    assert rise_after_promote(promoted, url) is None
    _intercept(url, "original", now - dt.timedelta(hours=12), n=20)  # as many before: no rise either
    _intercept(url, "new-one", now, n=2)
    assert rise_after_promote(promoted, url) is None
    assert rise_after_promote(promoted, f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert not (tmp_path / "missing.db").exists()
    operators.act_as("approver")
    assert main(["rollback", "--project", str(promoted.root), "--credit-db-url", url]) == 0
    assert "回滚原因" not in capsys.readouterr().out and "reason" not in load_manifest(promoted)["log"][-1]
