"""`python -m ops pipl …`: the console's personal-information requests on the command line, logged in — look-up
masked, a request carried out only by a second approver, every step audited with the account, OS user and
host; no login, no look-up."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from credit.db.engine import get_engine
from credit.policy import CHINA_TZ
from credit.seed import seed
from ops.access import audit
from ops.cli import main
from ops.privacy import pipl
from ops.project import Project
from tests.ops.conftest import Operators, make_tracker_db

PHONE = "13800005678"  # 李娜 of the seeded demo records


@pytest.fixture
def seeded(project: Project, tmp_path: Path) -> dict:
    credit = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(credit)
    seed(engine, now=datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ), reset=True)
    engine.dispose()
    make_tracker_db(tmp_path / "tracker.db")
    return {"credit": credit, "tracker": f"sqlite:///{tmp_path / 'tracker.db'}"}


def test_a_request_filed_and_approved_on_the_command_line(project: Project, seeded: dict, operators: Operators,
                                                          capsys: pytest.CaptureFixture) -> None:
    root = ["--project", str(project.root), "--credit-db-url", seeded["credit"]]
    assert main(["pipl", "find", PHONE, *root]) == 1
    shown = capsys.readouterr()
    assert "请先登录" in shown.err and PHONE not in shown.out + shown.err
    operators.act_as("approver")
    assert main(["pipl", "find", PHONE, *root]) == 0
    out = capsys.readouterr().out
    assert "138****5678" in out and PHONE not in out and "李某" in out and "李娜" not in out
    assert main(["pipl", "request", PHONE, "--kind", "export", "--reason", "客户来电 13912345678", *root]) == 1
    assert "--verified" in capsys.readouterr().err  # the customer's identity first
    assert main(["pipl", "request", PHONE, "--kind", "export", "--reason", "客户来电 13912345678", "--verified",
                 *root]) == 0
    assert "已提交第 1 号申请" in capsys.readouterr().out
    assert pipl.get(project, 1).reason == "客户来电 139****5678"
    decide = ["pipl", "approve", "1", *root, "--db-url", seeded["tracker"]]
    assert main(decide) == 1 and "申请人不能批准自己的申请" in capsys.readouterr().err
    operators.act_as("approver2", "approver")
    assert main(decide) == 0
    out = capsys.readouterr().out
    assert "第 1 号申请：已导出" in out and str(pipl.export_path(project, 1)) in out
    exported = json.loads(pipl.export_path(project, 1).read_text(encoding="utf-8"))
    assert exported["customer"][0]["phone"] == "138****5678"
    assert main(["pipl", "list", "--project", str(project.root)]) == 0
    listed = capsys.readouterr().out
    assert "#1" in listed and "已完成" in listed and "申请人 approver" in listed and "处理人 approver2" in listed
    steps = [(e.who, e.action) for e in reversed(audit.entries(project))]
    assert steps == [("approver", "pipl_search"), ("approver", "pipl_request"), ("approver2", "pipl_approve")]
    assert all(e.os_user and e.host for e in audit.entries(project))
    operators.act_as("auditor")  # may see the requests, not file or decide them
    assert main(["pipl", "list", "--project", str(project.root)]) == 0
    capsys.readouterr()
    assert main(["pipl", "reject", "1", *root]) == 1 and "需要审批人角色" in capsys.readouterr().err
