"""The role matrix on the command line: every verb that needs a login, run by an account of every role (and the
two-role ones), is refused exactly when the console's one table (ops/access/roles.py) says so — refused with
exit code 1, "无权", an audit entry, and nothing done; allowed ones get past the check (and then fail, or not,
on their own merits: every command here is harmless).  Every verb of the parser is either in that table or
on the short list of verbs that change no record and show no customer's data."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Dict, List

import pytest

from ops.access import audit
from ops.access.roles import PERMISSIONS, VERBS
from ops.cli import build_parser, main
from ops.project import Project
from tests.ops.conftest import ACCOUNTS, Operators

OPEN = {"validate", "evaluate", "status", "serve", "login", "logout", "whoami"}


def _argv(verb: str, tmp: Path, credit: str) -> List[str]:
    """A harmless command line for each verb (no model is trained, no server reached, nothing real sent)."""
    args: Dict[str, List[str]] = {
        "export": ["--db-url", "sqlite:////nonexistent/t.db"],
        "import": [str(tmp / "missing.csv")],
        "undo-import": ["--batch", "99"],
        "train": [],  # the fixture has an undeclared intent: the project checks stop it at once
        "promote": [], "rollback": ["--offline"],
        "callbacks": ["--credit-db-url", credit],
        "tickets close": ["TK209901010000", "--resolution", "已处理", "--credit-db-url", credit],
        "pipl list": [], "pipl find": ["SQ202611010001", "--credit-db-url", credit],
        "pipl request": ["SQ202611010001", "--kind", "export", "--reason", "来电", "--credit-db-url", credit],
        "pipl approve": ["999", "--credit-db-url", credit, "--db-url", f"sqlite:///{tmp / 't.db'}"],
        "pipl reject": ["999", "--credit-db-url", credit],
        "user add": ["newbie", "--roles", "auditor", "--password-stdin"], "user list": [],
        "user roles": ["nobody", "--roles", "auditor"], "user passwd": ["nobody", "--password-stdin"],
        "user disable": ["nobody"], "user enable": ["nobody"], "user unlock": ["nobody"],
    }
    return verb.split() + args[verb]


def test_every_verb_is_in_the_role_table_or_changes_and_shows_nothing() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "step")
    found = set()
    for name, child in sub.choices.items():  # type: ignore[union-attr]
        nested = [a for a in child._actions if a.dest.endswith("_cmd")]
        found |= {f"{name} {verb}" for verb in nested[0].choices} if nested else {name}
    assert found - OPEN == set(VERBS), found ^ (set(VERBS) | OPEN)
    assert set(VERBS.values()) <= set(PERMISSIONS)


@pytest.fixture
def matrix_project(project: Project, tmp_path: Path) -> Project:
    from credit.db.engine import get_engine, init_db

    (project.nlu_dir / "undeclared.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: not_in_domain\n  examples: |\n    - 随便说说\n', encoding="utf-8")
    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    init_db(engine)
    engine.dispose()
    return project


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_the_cli_checks_the_consoles_roles(verb: str, matrix_project: Project, tmp_path: Path,
                                           operators: Operators, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    project = matrix_project
    credit = f"sqlite:///{tmp_path / 'credit.db'}"
    argv = _argv(verb, tmp_path, credit) + ["--project", str(project.root)]
    for account, roles in ACCOUNTS.items():
        operators.act_as(account)
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        allowed = bool(PERMISSIONS[VERBS[verb]] & set(roles.split(",")))
        code = main(argv)
        err = capsys.readouterr().err
        denied = [e for e in audit.entries(project, who=account, action="denied")]
        if allowed:
            assert "无权" not in err and "请先登录" not in err, (verb, account, err)
            assert not denied, (verb, account)
        else:
            assert code == 1 and f"无权执行 python -m ops {verb}" in err, (verb, account, code, err)
            assert [e.target for e in denied] == [f"python -m ops {verb}"] and denied[0].os_user, (verb, account)
    assert not (project.candidates_dir.exists() and list(project.candidates_dir.glob("*.tar.gz")))
