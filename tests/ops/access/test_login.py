"""`python -m ops login | logout | whoami` and OPS_TOKEN: a real login with the console's password, the token kept
for the OS user alone (0600) and only its hash on the server, expiry and revocation, the first admin made once
on the machine; and, as the outside check runs them, the verbs without a login: non-zero, no customer's number,
the way to log in (``--by`` included)."""
from __future__ import annotations

import io
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops.access import audit, session_file, tokens, users
from ops.cli import main
from ops.project import Project
from ops.statedb import db_path
from tests.ops.conftest import PASSWORD, ROOT, Operators

CALL_BACK = "13912345678"  # a customer's call-back number: must never show without a login


def _login(project: Project, name: str, password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["login", name, "--password-stdin", "--project", str(project.root)])


def _state(project: Project, sql: str, *args: object) -> list:
    with sqlite3.connect(db_path(project)) as conn:
        return conn.execute(sql, args).fetchall()


def test_login_keeps_a_private_token_whose_hash_alone_is_on_the_server(project: Project, operators: Operators,
                                                                       own_login_file: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture) -> None:
    operators.account("trainer")
    assert _login(project, "trainer", "wrong-password-1", monkeypatch) == 1
    assert "用户名或密码错误" in capsys.readouterr().err and not session_file.path().exists()
    assert _login(project, "trainer", PASSWORD, monkeypatch) == 0
    assert "已登录：trainer" in capsys.readouterr().out
    file = session_file.path()
    assert file.parent == own_login_file / "credit-ops"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    entry = session_file.read(str(db_path(project).resolve()))
    assert entry and entry["username"] == "trainer" and entry["token"].startswith("opsl_")
    # the server has its hash, never the token itself
    raw = db_path(project).read_bytes() + b"".join(p.read_bytes() for p in db_path(project).parent.glob("*-wal"))
    assert entry["token"].encode() not in raw
    [(kind, os_user, host, expires, created)] = _state(project, "SELECT kind, os_user, host, expires_at, created_at "
                                                                "FROM cli_tokens")
    assert kind == "login" and os_user and host and expires - created == tokens.LOGIN_MAX_S
    assert main(["whoami", "--project", str(project.root)]) == 0
    who = capsys.readouterr().out
    assert "账号：trainer" in who and "训练员" in who and "命令行登录" in who
    assert [e.action for e in audit.entries(project)] == ["login", "login_failed"]
    # logout: revoked on the server, gone from the file; the same token is then worth nothing
    token = entry["token"]
    assert main(["logout", "--project", str(project.root)]) == 0
    assert session_file.read(str(db_path(project).resolve())) is None
    assert tokens.check(project, token, os_user, host) == (None, "令牌已被吊销或已退出登录")
    assert main(["whoami", "--project", str(project.root)]) == 1
    assert "请先登录：python -m ops login" in capsys.readouterr().err


def test_a_login_expires_idles_out_and_belongs_to_one_os_user(project: Project, operators: Operators,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    operators.account("anno")
    root = ["--project", str(project.root)]

    def fresh() -> None:
        assert _login(project, "anno", PASSWORD, monkeypatch) == 0
        capsys.readouterr()

    fresh()
    _state(project, "UPDATE cli_tokens SET last_used = ?", time.time() - tokens.LOGIN_IDLE_S - 5)
    assert main(["whoami", *root]) == 1
    assert "闲置超过" in capsys.readouterr().err
    assert session_file.read(str(db_path(project).resolve())) is None  # a dead login leaves the file too
    fresh()
    _state(project, "UPDATE cli_tokens SET expires_at = ? WHERE revoked_at IS NULL", time.time() - 1)
    assert main(["whoami", *root]) == 1 and "登录已过期" in capsys.readouterr().err
    fresh()
    _state(project, "UPDATE cli_tokens SET os_user = 'someone-else' WHERE revoked_at IS NULL")
    assert main(["whoami", *root]) == 1 and "这个登录属于 someone-else@" in capsys.readouterr().err
    fresh()  # a new login replaces the previous one of this OS user
    assert _login(project, "anno", PASSWORD, monkeypatch) == 0
    assert len(_state(project, "SELECT id FROM cli_tokens WHERE revoked_at IS NULL")) == 1
    # a login file others can read is refused, as ssh refuses such a key
    os.chmod(session_file.path(), 0o644)
    assert main(["whoami", *root]) == 1 and "权限过宽" in capsys.readouterr().err


def test_ops_token_is_refused_when_revoked_expired_or_its_account_disabled(project: Project, operators: Operators,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           capsys: pytest.CaptureFixture) -> None:
    root = ["--project", str(project.root)]
    token = operators.act_as("approver")
    assert main(["whoami", *root]) == 0 and "OPS_TOKEN 令牌" in capsys.readouterr().out
    users.set_active(project, "approver", False)
    assert main(["whoami", *root]) == 1 and "已停用" in capsys.readouterr().err
    users.set_active(project, "approver", True)
    [row] = _state(project, "SELECT id FROM cli_tokens WHERE kind = 'automation'")
    tokens.revoke(project, row[0], "admin")
    assert main(["whoami", *root]) == 1 and "已被吊销" in capsys.readouterr().err
    operators.act_as("approver")
    _state(project, "UPDATE cli_tokens SET expires_at = ? WHERE revoked_at IS NULL", time.time() - 1)
    assert main(["whoami", *root]) == 1 and "令牌已过期" in capsys.readouterr().err
    monkeypatch.setenv("OPS_TOKEN", token[:-3] + "xyz")
    assert main(["whoami", *root]) == 1 and "令牌无效" in capsys.readouterr().err
    monkeypatch.setenv("OPS_TOKEN", "x" * 5000)
    assert main(["whoami", *root]) == 1 and "令牌格式不对" in capsys.readouterr().err
    with pytest.raises(Exception, match="有效期"):
        tokens.issue_automation(project, "approver", "脚本", tokens.AUTOMATION_MAX_DAYS + 1, "admin")
    with pytest.raises(Exception, match="用途"):
        tokens.issue_automation(project, "approver", "  ", 1, "admin")


def test_the_first_admin_is_made_locally_once_and_audited(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    def add(name: str, roles: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO("First-admin-2026\n"))
        return main(["user", "add", name, "--roles", roles, "--password-stdin", "--project", str(project.root)])

    assert add("boss", "trainer") == 1  # the first account must be able to add the others
    assert "第一个账号必须是管理员" in capsys.readouterr().err and users.count(project) == 0
    assert add("boss", "admin") == 0
    assert "这是第一个账号" in capsys.readouterr().out
    [entry] = audit.entries(project, action="user_add")
    assert entry.target == "boss" and entry.via == "local" and entry.os_user and entry.host
    assert '"first_admin": true' in entry.detail
    assert add("boss2", "admin") == 1  # never again without an admin's login
    assert "请先登录" in capsys.readouterr().err and users.count(project) == 1
    assert _login(project, "boss", "First-admin-2026", monkeypatch) == 0
    assert add("boss2", "admin") == 0 and users.count(project) == 2
    assert [e.via for e in audit.entries(project, action="user_add")] == ["login", "local"]


def _run(project: Project, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops", *args, "--project", str(project.root)], cwd=project.root,
                          env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


def test_without_a_login_the_verbs_say_how_to_log_in_and_show_no_number(project: Project, tmp_path: Path,
                                                                        operators: Operators) -> None:
    """What the outside check runs: no login at all, `--by` typed as before."""
    from credit.db.engine import get_engine, init_db
    from credit.service import LoanService

    url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = get_engine(url)
    init_db(engine)
    LoanService(engine).create_ticket("rest:cb", "complaint", "态度差", contact=CALL_BACK)
    engine.dispose()
    operators.account("agent")
    env = {k: v for k, v in os.environ.items() if k != "OPS_TOKEN"}
    env["DATABASE_URL"] = url
    for args in (["callbacks"], ["promote", "--by", "某人"], ["rollback", "--by", "某人"],
                 ["callbacks", "--by", "某人"], ["promote"], ["rollback"], ["train"], ["import", "x.xlsx"],
                 ["undo-import", "--batch", "1"],
                 ["tickets", "close", "TK202612010001", "--resolution", "已处理"], ["pipl", "list"],
                 ["user", "list"], ["export"], ["tickets", "close", "TK1", "--resolution", "x", "--by=某人"]):
        result = _run(project, *args, env=env)
        shown = result.stdout + result.stderr
        assert result.returncode != 0, args
        assert "登录" in shown and "python -m ops login" in shown, (args, shown)
        assert CALL_BACK not in shown and "Traceback" not in shown and "usage:" not in shown, (args, shown)
    # the agent, once logged in, sees it
    token = operators.token("agent")
    listed = _run(project, "callbacks", env={**env, "OPS_TOKEN": token})
    assert listed.returncode == 0 and CALL_BACK in listed.stdout


@pytest.mark.parametrize("name, password", [
    ("", PASSWORD), ("anno\x00", PASSWORD), ("a" * 5000, PASSWORD), ("'; DROP TABLE users;--", PASSWORD),
    ("anno", ""), ("anno", "x" * 100_000), ("anno", "\x1b[31m" + PASSWORD),
])
def test_hostile_logins_are_refused_cleanly_and_change_nothing(project: Project, operators: Operators, name: str,
                                                               password: str, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    operators.account("anno")
    monkeypatch.setattr("builtins.input", lambda prompt="": "")  # an empty answer to the account prompt
    assert _login(project, name, password, monkeypatch) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：登录失败") and "Traceback" not in err
    assert not session_file.path().exists() and _state(project, "SELECT count(*) FROM cli_tokens") == [(0,)]
    assert users.get(project, "anno") is not None  # the account table is intact
