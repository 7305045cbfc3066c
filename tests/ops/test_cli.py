"""The command line (Chinese help and errors) and the project checks of `validate`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops.cli import main
from ops.project import Project
from ops.retrain.validate import ERROR, project_checks
from tests.ops.conftest import ROOT


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_help_is_chinese_and_lists_every_step(project: Project) -> None:
    result = _run("--help", cwd=project.root)
    assert result.returncode == 0
    for word in ("用法", "export", "import", "validate", "train", "evaluate", "promote", "rollback", "显示帮助"):
        assert word in result.stdout
    sub = _run("import", "--help", cwd=project.root)
    assert "标注好的" in sub.stdout and "--skip-invalid" in sub.stdout


def test_usage_errors_are_chinese(project: Project) -> None:
    result = _run("deploy", cwd=project.root)
    assert result.returncode == 2 and "错误：" in result.stderr and "无效的选择" in result.stderr
    result = _run("import", cwd=project.root)
    assert result.returncode == 2 and "缺少必需的参数" in result.stderr


def test_outside_a_project(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["status", "--project", str(tmp_path)]) == 1
    assert "不是 Rasa 项目根目录" in capsys.readouterr().err


def test_domain_is_the_single_source_of_intents(project: Project) -> None:
    assert project.intents() == ["ask_interest_rate", "ask_repayment", "check_progress", "request_human", "complain",
                                 "greet", "goodbye"]
    assert project.basic_intents() == ["greet", "goodbye"]
    assert "greet" not in project.business_intents()


def test_real_project_intents_come_from_its_domain() -> None:
    real = Project.at(ROOT)
    assert len(real.intents()) >= 20 and "ask_interest_rate" in real.business_intents()
    assert {"greet", "inform", "out_of_scope"} <= set(real.basic_intents())
    assert real.domain.name == "domain" and real.intent_labels().get("ask_interest_rate")


def test_validate_clean_fixture(project: Project, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "--skip-rasa", "--project", str(project.root)]) == 0
    assert "检查通过" in capsys.readouterr().out


def test_validate_finds_every_kind_of_problem(project: Project, capsys: pytest.CaptureFixture) -> None:
    (project.nlu_dir / "extra.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 利息多少？\n'
        '- intent: thank\n  examples: |\n    - 谢谢\n- intent: goodbye\n  examples: |\n    - 请问利息多少\n',
        encoding="utf-8")
    domain = project.root / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8") + '  utter_promise:\n    - text: "保证通过，秒批到账！"\n',
                      encoding="utf-8")
    findings = project_checks(project, min_examples=16)
    checks = {f.check for f in findings if f.level == ERROR}
    assert checks == {"矛盾", "样本不足", "未声明意图", "合规"}
    assert [f.check for f in findings if f.level != ERROR] == ["留出集泄漏"]  # hand-written: a warning
    assert main(["validate", "--skip-rasa", "--project", str(project.root)]) == 1
    out = capsys.readouterr().out
    assert "利息多少" in out and "utter_promise" in out and "检查未通过" in out


def test_hand_edited_ops_file(project: Project) -> None:
    project.ops_nlu_dir.mkdir(parents=True)
    (project.ops_nlu_dir / "greet.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
                                                   '    - 手写的\n', encoding="utf-8")
    assert [(f.level, f.check) for f in project_checks(project)] == [("警告", "台账一致")]
    (project.ops_nlu_dir / "greet.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
                                                   '    - 嗨你好\n', encoding="utf-8")  # a held-out text
    assert ("错误", "留出集泄漏") in [(f.level, f.check) for f in project_checks(project)]


def test_emoji_only_texts_are_distinct(project: Project) -> None:
    (project.nlu_dir / "emoji.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 👋\n'
                                               '- intent: complain\n  examples: |\n    - 😡😡\n', encoding="utf-8")
    assert not [f for f in project_checks(project) if f.check == "矛盾"]


def test_training_progress_survives_split_log_lines(capsys: pytest.CaptureFixture) -> None:
    from ops.retrain.train import _Progress

    progress = _Progress()
    log = ("INFO rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n"
           "Epochs:  50%|#####     | 30/60 [00:10<00:10, t_loss=1.2]\r")
    for start in range(0, len(log), 7):
        progress.feed(log[start:start + 7])
    err = capsys.readouterr().err
    assert "训练组件 DIETClassifier" in err and "第 30/60 轮（50%）" in err
