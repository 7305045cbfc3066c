"""The console's side of the one identity, over real HTTP and the real command line:

* an admin issues an account its OPS_TOKEN (shown once), sees the command-line logins, and revokes either;
  every issue and revocation is audited; bad input issues nothing;
* four-eyes on the console: the trainer and the importer of a candidate are refused, before any job starts;
* console jobs run each step with a one-time token bound to the account that started the job (never a typed
  name): the step proves itself with it, so the command line checks roles and four-eyes again, even when a
  job is started past the page's own check; the token is used up and revoked.

Rasa's model API is the stand-in of tests/ops/retrain/test_promote.py (GET /status, PUT /model).
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from ops.access import audit, users
from ops.console import jobs
from ops.project import Project
from ops.retrain.store import load_manifest
from ops.statedb import db_path
from tests.console.conftest import PASSWORD, Console, start_console
from tests.ops.retrain.test_promote import TOKEN, FakeRasa, fake_candidate, fake_model


def _tokens_shown(page: str) -> list:
    return re.findall(r"opsa_[A-Za-z0-9_\-]{20,}", page)


def test_an_admin_issues_and_revokes_command_line_tokens(console: Console) -> None:
    admin = console.client("admin")
    issued = admin.post("/users", {"op": "token_issue", "username": "trainer", "label": "每周自动训练", "days": "7"})
    assert issued.status == 200 and "已为 trainer 签发第 1 号令牌（7 天）" in issued.text
    [token] = _tokens_shown(issued.text)
    assert _tokens_shown(admin.get("/users").text) == []  # shown once, never again
    who = console.ops("whoami", token=token).stdout
    assert "账号：trainer" in who and "OPS_TOKEN 令牌 #1（admin 签发）" in who
    # a colleague's command-line login is listed too, with where it was made
    console.ops("login", "anno", "--password-stdin", stdin=PASSWORD + "\n")
    listed = admin.get("/users").text
    assert re.search(r"<td>1</td><td>trainer</td><td>自动化令牌（OPS_TOKEN）</td>\s*<td>每周自动训练</td>"
                     r"<td>admin</td>", listed)
    login_row = re.search(r"<td>(\d+)</td><td>anno</td><td>命令行登录</td>\s*<td>python -m ops login（(\S+?)@", listed)
    assert login_row, listed
    # bad input: nothing issued
    before = _count_tokens(console)
    for fields, why in (({"username": "trainer", "label": "x", "days": "abc"}, "整数"),
                        ({"username": "trainer", "label": "x", "days": "0"}, "1–90"),
                        ({"username": "trainer", "label": "x", "days": "91"}, "1–90"),
                        ({"username": "trainer", "label": " ", "days": "7"}, "用途"),
                        ({"username": "nobody", "label": "x", "days": "7"}, "没有可用的账号"),
                        ({"username": "<script>", "label": "x", "days": "7"}, "没有可用的账号")):
        refused = admin.post("/users", {"op": "token_issue", **fields})
        assert refused.status == 400 and why in refused.text and "<script>" not in refused.text, fields
    assert _count_tokens(console) == before
    assert admin.post("/users", {"op": "token_revoke", "id": "999"}).status == 400
    assert admin.post("/users", {"op": "token_revoke", "id": "x"}).status == 400
    # only an admin issues
    trainer = console.client("trainer")
    assert trainer.post("/users", {"op": "token_issue", "username": "trainer", "label": "x", "days": "7"}).status == 403
    # revoking: the token and the login stop at once
    assert "已吊销第 1 号令牌" in admin.post("/users", {"op": "token_revoke", "id": "1"}).text
    assert "已被吊销" in console.ops("whoami", token=token, expect=1).stderr
    assert "已吊销" in admin.post("/users", {"op": "token_revoke", "id": login_row.group(1)}).text
    gone = console.ops("whoami", expect=1).stderr
    assert "已被吊销" in gone and "python -m ops login" in gone
    log = console.client("auditor").get("/audit").text
    assert "签发命令行令牌" in log and "吊销命令行令牌" in log and "#1 trainer" in log


def _count_tokens(console: Console) -> int:
    with sqlite3.connect(db_path(Project.at(console.root))) as conn:
        return conn.execute("SELECT count(*) FROM cli_tokens").fetchone()[0]


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    server = FakeRasa()
    yield server
    server.stop()


@pytest.fixture
def models(console: Console, rasa: FakeRasa, tmp_path: Path) -> Console:
    """A live model and a passing candidate of batch 1, trained by `both`; batch 1 labelled by `annoapp` in the
    console; a console that notifies the Rasa stand-in."""
    project = Project.at(console.root)
    users.add(project, "annoapp", PASSWORD, ["annotator,approver"], by="test")
    added = console.client("annoapp").post("/data/add", {"text": "早上好呀各位", "intent": "greet"})
    assert "已新增（第 1 批）" in added.text
    fake_model(project.production_model, "original")
    rasa.model_id = "original"
    fake_candidate(project, "cand1", "new-one", batch=1)
    meta = project.candidates_dir / "cand1.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "by": "both"}))
    gate = project.candidates_dir / "cand1.gate.json"  # what the models page shows of a real gate record
    gate.write_text(json.dumps({**json.loads(gate.read_text()), "notes": [], "macro_f1": {"production": 0.9,
                                                                                           "candidate": 0.92},
                                "regression_set": {"n": 35, "judged_batches": [1]}}))
    start_console(console, tmp_path, {"RASA_URL": rasa.url, "RASA_AUTH_TOKEN": TOKEN})
    return console


def _job_id(reply_url: str) -> int:
    found = re.search(r"job=(\d+)", reply_url)
    assert found, reply_url
    return int(found.group(1))


def test_four_eyes_on_the_console_and_in_its_jobs(models: Console, rasa: FakeRasa) -> None:
    console, project = models, Project.at(models.root)
    for who, why in (("both", "训练了这个候选模型"), ("annoapp", "导入了它包含的第 1 批数据")):
        refused = console.client(who).post("/models/promote", {"candidate": "cand1"})
        assert refused.status == 403 and f"四眼原则：{who} {why}" in refused.text, refused.text[:800]
    assert rasa.puts == [] and jobs.recent(project) == []  # refused before any job started
    # past the page's check, the job's step still proves who started it, and the command line refuses
    bypass = jobs.start(project, "promote", "both", str(project.candidates_dir / "cand1.tar.gz"))
    done = jobs.wait(project, bypass.id, 120)
    assert done.state == "failed" and "四眼原则：both 训练了这个候选模型" in done.output(project)
    assert rasa.puts == [] and not project.manifest.exists()
    # another approver: the job promotes, as that account
    approver = console.client("approver", follow=False)
    started = approver.post("/models/promote", {"candidate": "cand1"})
    assert started.status == 303
    job = jobs.wait(project, _job_id(started.headers["Location"]), 120)
    assert job.state == "done", job.output(project)
    assert rasa.model_id == "new-one" and load_manifest(project)["current"]["promoted_by"] == "approver"
    [entry] = audit.entries(project, action="promote")
    assert (entry.who, entry.via) == ("approver", "job") and entry.os_user and entry.host
    # the one-time token: bound to the account and the job, used once, then revoked; replaying it is refused
    with sqlite3.connect(db_path(project)) as conn:
        rows = conn.execute("SELECT username, label, uses_left, revoked_at FROM cli_tokens WHERE kind = 'job' "
                            "ORDER BY id").fetchall()
    assert [(u, label, left) for u, label, left, _ in rows] == [("both", f"控制台任务 #{bypass.id}", 0),
                                                               ("approver", f"控制台任务 #{job.id}", 0)]
    assert all(revoked for *_, revoked in rows)
    assert "--by" not in job.output(project) and "--by" not in done.output(project)
    # rollback, by a second approver
    rolled = console.client("approver2", follow=False).post("/models/rollback", {})
    job = jobs.wait(project, _job_id(rolled.headers["Location"]), 120)
    assert job.state == "done" and rasa.model_id == "original"
    last = load_manifest(project)["log"][-1]
    assert (last["action"], last["by"]) == ("rollback", "approver2")


def test_a_train_job_runs_as_the_trainer_who_started_it(console: Console) -> None:
    (console.root / "data" / "nlu" / "undeclared.yml").write_text(  # the project checks stop the training at once
        'version: "3.1"\nnlu:\n- intent: not_in_domain\n  examples: |\n    - 随便说说\n', encoding="utf-8")
    project = Project.at(console.root)
    started = console.client("trainer", follow=False).post("/models/train", {})
    job = jobs.wait(project, _job_id(started.headers["Location"]), 120)
    output = job.output(project)
    assert job.state == "failed" and job.by == "trainer"
    assert "项目检查未通过" in output and "请先登录" not in output and "无权" not in output  # it was the trainer
    with sqlite3.connect(db_path(project)) as conn:
        assert conn.execute("SELECT username, uses_left FROM cli_tokens WHERE kind = 'job'").fetchall() == [
            ("trainer", 0)]
