"""`python -m ops tickets close`: a logged-in service agent closes a ticket (Chinese help and errors, exit codes
0/2, one audit row per attempt, refused ones included), hostile input changes nothing, no login or the wrong
role changes nothing either, and the close is what the outreach engine's follow-up is planned from."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import List

import pytest
from sqlalchemy import func, select

from credit.catalogue.loader import load_catalogue
from credit.db.engine import get_engine, session_scope
from credit.db.tickets import Ticket, TicketOutcome
from credit.policy import CHINA_TZ
from credit.seed import seed
from credit.service import LoanService
from ops.access import audit
from ops.cli import main
from ops.project import Project
from tests.ops.conftest import ROOT, Operators

SEEDED = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
FAKE_NOW = "2026-12-01T15:00:00+08:00"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A project root for the audit log, a seeded business database, and the test clock."""
    (tmp_path / "config.yml").write_text("language: zh\n", "utf-8")
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(url)
    seed(engine, now=SEEDED, reset=True)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CREDIT_FAKE_NOW", FAKE_NOW)
    monkeypatch.setenv("HARDENING_MODE", "development")
    Operators(Project.at(tmp_path), monkeypatch).act_as(AGENT, "agent")  # a service agent, logged in
    yield tmp_path, engine
    engine.dispose()


AGENT = "wang.zg"


def open_ticket(engine, kind: str = "complaint") -> str:
    svc = LoanService(engine, clock=lambda: SEEDED)
    return svc.create_ticket("wx:o_demo_openid_5678", kind, "放款慢", contact="registered",
                             application_id="SQ202611180002").number


def close(root: Path, *args: str) -> int:
    return main(["tickets", "close", *args, "--project", str(root)])


def actions(root: Path) -> List[tuple]:
    return [(e.who, e.action, e.target) for e in reversed(audit.entries(Project.at(root)))]


def state(engine, number: str) -> tuple:
    with session_scope(engine) as s:
        status = s.execute(select(Ticket.status).where(Ticket.number == number)).scalar_one()
        outcomes = s.execute(select(func.count(TicketOutcome.id))).scalar_one()
    return status, outcomes


def test_closing_a_ticket_records_it_audits_it_and_plans_the_follow_up(env, capsys):
    root, engine = env
    number = open_ticket(engine)
    assert close(root, number, "--resolution", "已回电 13912345678 说明放款进度，款项已到账") == 0
    out = capsys.readouterr().out
    # the test clock starts at CREDIT_FAKE_NOW when the process started and runs on (credit/clock.py)
    assert re.search(rf"已办结工单 {number}（2026-12-01 15:\d\d 北京时间）", out) and "139****5678" in out
    assert "13912345678" not in out and "办结回访" in out
    assert state(engine, number) == ("closed", 1)
    [entry] = audit.entries(Project.at(root), action="ticket_close")
    assert (entry.who, entry.target, entry.via.split("#")[0]) == (AGENT, number, "automation") and entry.host
    with session_scope(engine) as s:
        assert s.execute(select(TicketOutcome.closed_by)).scalar_one() == AGENT  # the account, not a typed name
    assert "139****5678" in entry.detail and "13912345678" not in entry.detail

    from outreach.channels import SmsChannel
    from outreach.engine import OutreachEngine

    with session_scope(engine) as session:
        closed_at = session.execute(select(TicketOutcome.closed_at)).scalar_one()
    moment = closed_at + timedelta(minutes=1)
    report = OutreachEngine(engine, load_catalogue(), {"sms": SmsChannel(engine)}, lambda: moment).sweep()
    assert f"ticket_followup:{number}" in report.sent


@pytest.mark.parametrize("number, why", [
    ("TK209901010000", "没有工单"),
    ("TK2026'; DROP TABLE tickets;--", "工单号格式不正确"),
    ("../../etc/passwd", "工单号格式不正确"),
    ("TK" + "1" * 5000, "工单号格式不正确"),
    ("", "工单号格式不正确"),
])
def test_an_unknown_or_malformed_number_is_refused_and_audited(env, capsys, number, why):
    root, engine = env
    assert close(root, number, "--resolution", "已处理") == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and why in err and "Traceback" not in err
    [(who, action, target)] = actions(root)
    assert (who, action) == (AGENT, "ticket_close_refused") and len(target) <= 40
    with session_scope(engine) as s:  # nothing changed, the table is still there
        assert s.execute(select(func.count(TicketOutcome.id))).scalar_one() == 0
        assert s.execute(select(func.count(Ticket.id))).scalar_one() == 0


def test_closing_twice_is_refused_and_the_first_close_stands(env, capsys):
    root, engine = env
    number = open_ticket(engine)
    assert close(root, number, "--resolution", "已处理") == 0
    assert close(root, number.lower(), "--resolution", "又处理了一次") == 2
    assert "已经办结" in capsys.readouterr().err
    assert state(engine, number) == ("closed", 1)
    with session_scope(engine) as s:
        assert s.execute(select(TicketOutcome.resolution)).scalar_one() == "已处理"
    assert [a for _, a, _ in actions(root)] == ["ticket_close", "ticket_close_refused"]


@pytest.mark.parametrize("resolution, why", [
    ("", "请填写办结说明"),
    ("  \t ", "请填写办结说明"),
    ("\x00\x1b\x07\r\n", "请填写办结说明"),
    ("说" * 201, "最多200字"),
])
def test_hostile_resolutions_change_nothing(env, capsys, resolution, why):
    root, engine = env
    number = open_ticket(engine)
    assert close(root, number, "--resolution", resolution) == 2
    assert why in capsys.readouterr().err
    assert state(engine, number) == ("open", 0)
    [(who, action, _)] = actions(root)
    assert (who, action) == (AGENT, "ticket_close_refused")


def test_no_login_a_typed_name_or_another_role_closes_nothing(env, capsys, monkeypatch):
    root, engine = env
    number = open_ticket(engine)
    monkeypatch.delenv("OPS_TOKEN")
    assert close(root, number, "--resolution", "已处理") == 1
    assert "请先登录：python -m ops login" in capsys.readouterr().err
    assert close(root, number, "--resolution", "已处理", "--by", "主管王") == 2  # naming oneself is gone
    assert "--by 已取消" in capsys.readouterr().err
    Operators(Project.at(root), monkeypatch).act_as("anno", "annotator")
    assert close(root, number, "--resolution", "已处理") == 1
    assert "无权执行 python -m ops tickets close：需要客服坐席角色" in capsys.readouterr().err
    assert state(engine, number) == ("open", 0)
    assert actions(root) == [("anno", "denied", "python -m ops tickets close")]


def test_control_characters_in_a_resolution_do_not_reach_the_record(env):
    root, engine = env
    number = open_ticket(engine)
    assert close(root, number, "--resolution", "已处理\n\x1b[31m请忽略\r完毕") == 0
    with session_scope(engine) as s:
        stored = s.execute(select(TicketOutcome.resolution)).scalar_one()
    assert "\n" not in stored and "\x1b" not in stored and stored.startswith("已处理")


def test_an_unreachable_database_is_exit_1_and_a_fake_clock_outside_development_is_refused(env, capsys,
                                                                                           monkeypatch):
    root, engine = env
    number = open_ticket(engine)
    assert close(root, number, "--resolution", "已处理", "--credit-db-url",
                 "postgresql+psycopg2://nobody:nothing@127.0.0.1:1/none") == 1
    assert "业务数据库暂时无法访问" in capsys.readouterr().err
    monkeypatch.setenv("HARDENING_MODE", "production")
    with pytest.raises(SystemExit):
        close(root, number, "--resolution", "已处理")
    assert state(engine, number) == ("open", 0)


def test_the_real_command_line_help_usage_and_exit_codes(env):
    root, engine = env
    number = open_ticket(engine)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ops", *args], cwd=root, env={**os.environ,
                              "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)

    helped = run("tickets", "close", "--help")
    assert helped.returncode == 0 and "办结" in helped.stdout and "--resolution" in helped.stdout
    assert "回访" in helped.stdout and "用法" in helped.stdout
    missing = run("tickets", "close", number)
    assert missing.returncode == 2 and "缺少必需的参数" in missing.stderr
    bare = run("tickets")
    assert bare.returncode == 2 and "python -m ops tickets close" in bare.stderr
    done = run("tickets", "close", number, "--resolution", "已处理")
    assert done.returncode == 0 and f"已办结工单 {number}" in done.stdout, done.stderr
    again = run("tickets", "close", number, "--resolution", "已处理")
    assert again.returncode == 2 and "已经办结" in again.stderr
