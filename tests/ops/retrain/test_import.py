"""Import of annotated sheets: the happy path, the ledger, and hostile sheets that change nothing."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from ops.cli import main
from ops.project import Project, read_nlu_file
from ops.retrain.importer import run_import
from ops.retrain.ledger import read_ledger, read_log, undo_batch
from ops.retrain.sheet import MAX_ROWS, SheetError
from tests.ops.conftest import Operators, data_digest, write_csv_sheet, write_xlsx_sheet

GOOD = [("单子过了没有", "check_progress"), ("能不能跟活人聊", "request_human"), ("这钱要几个点", "ask_interest_rate")]


def _rasa_examples(path: Path) -> list:
    from rasa.shared.nlu.training_data.loading import load_data

    return sorted((m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples)


def test_import_writes_ops_files_ledger_and_log(project: Project, tmp_path: Path) -> None:
    sheet = write_xlsx_sheet(tmp_path / "done.xlsx", [*GOOD, ("还没标注的一句", None), (None, None)])
    report = run_import(project, sheet, by="alice")
    assert report.written and report.batch == 1
    assert report.unannotated == 1
    files = sorted(p.name for p in project.ops_nlu_dir.glob("*.yml"))
    assert files == ["ask_interest_rate.yml", "check_progress.yml", "request_human.yml"]
    assert _rasa_examples(project.ops_nlu_dir) == sorted(GOOD)  # Rasa itself reads them back
    ledger = read_ledger(project)
    assert [(c.text, c.intent, c.batch, c.by) for c in ledger] == [(t, i, 1, "alice") for t, i in GOOD]
    log = read_log(project)
    assert log[-1]["action"] == "import" and log[-1]["by"] == "alice" and log[-1]["rows"] == 3
    assert log[-1]["file"] == "done.xlsx" and len(log[-1]["sha256"]) == 64
    # Rasa never reads the ledger as training data (top-level key is `corrections`).
    assert "nlu" not in yaml.safe_load(project.ledger.read_text(encoding="utf-8"))

    # A second batch: duplicates are skipped, batch numbers grow.
    again = write_csv_sheet(tmp_path / "again.csv", [GOOD[0], ("钱啥时候能打过来啊", "check_progress")])
    second = run_import(project, again, by="bob")
    assert second.batch == 2 and [t for _, t, _ in second.imported] == ["钱啥时候能打过来啊"]
    assert any("已有" in s.message for s in second.skipped)


def test_yaml_special_characters_round_trip(project: Project, tmp_path: Path) -> None:
    texts = ["利息: 多少 # 真的?", "{大括号} 和 [方括号", "'单引号' \"双引号\"", "*星号* &锚点 !标签 %百分号 |竖线",
             "反引号`和>大于", "中间\t有\u2028换行"]
    sheet = write_csv_sheet(tmp_path / "special.csv", [(t, "ask_interest_rate") for t in texts])
    report = run_import(project, sheet)
    assert report.written, report.errors
    expected = sorted((" ".join(t.replace("\u2028", " ").split()), "ask_interest_rate") for t in texts)
    assert _rasa_examples(project.ops_nlu_dir / "ask_interest_rate.yml") == expected


def test_unknown_intent_and_contradictions_are_reported_per_row_and_change_nothing(
        project: Project, tmp_path: Path, operators: Operators) -> None:
    before = data_digest(project)
    sheet = write_xlsx_sheet(tmp_path / "bad.xlsx", [
        ("单子过了没有", "check_progress"),  # fine
        ("这句意图不存在", "ask_weather"),  # unknown intent
        ("利息多少", "greet"),  # training data says ask_interest_rate
        ("请问利息多少", "greet"),  # the held-out set says ask_interest_rate
        ("一句话两个意图", "greet"),
        ("一句话两个意图", "goodbye"),
    ])
    report = run_import(project, sheet)
    assert not report.written
    messages = {issue.line: issue.message for issue in report.errors}
    assert "ask_weather" in messages[3] and "不存在" in messages[3]
    assert "训练数据" in messages[4] and "ask_interest_rate" in messages[4]
    assert "留出集" in messages[5]
    assert "不同意图" in messages[6] and "不同意图" in messages[7]
    assert data_digest(project) == before
    operators.act_as("anno")
    assert main(["import", str(sheet), "--project", str(project.root)]) == 1
    assert data_digest(project) == before


def test_skip_invalid_imports_the_valid_rows(project: Project, tmp_path: Path) -> None:
    sheet = write_csv_sheet(tmp_path / "mixed.csv", [("单子过了没有", "check_progress"), ("另一句", "ask_weather")])
    report = run_import(project, sheet, skip_invalid=True)
    assert report.written and [t for _, t, _ in report.imported] == ["单子过了没有"]
    assert len(report.errors) == 1


def test_dry_run_changes_nothing(project: Project, tmp_path: Path) -> None:
    before = data_digest(project)
    report = run_import(project, write_csv_sheet(tmp_path / "ok.csv", GOOD), dry_run=True)
    assert len(report.imported) == 3 and not report.written
    assert data_digest(project) == before


# --------------------------------------------------------------------------- hostile sheets


def _refused(project: Project, sheet: Path, *expected: str) -> str:
    before = data_digest(project)
    with pytest.raises(SheetError) as caught:
        run_import(project, sheet)
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    assert data_digest(project) == before
    return message


def test_wrong_columns_name_the_expected_ones(project: Project, tmp_path: Path) -> None:
    sheet = write_xlsx_sheet(tmp_path / "cols.xlsx", [("利息", "x")], header=("text", "intent"))
    _refused(project, sheet, "缺少必需的列", "文本", "正确意图")
    csv_sheet = write_csv_sheet(tmp_path / "cols.csv", [("利息", "x")], header=("文本", "意图"))
    _refused(project, csv_sheet, "正确意图")


def test_empty_sheets(project: Project, tmp_path: Path) -> None:
    _refused(project, write_xlsx_sheet(tmp_path / "blank.xlsx", [], header=("", "")), "没有任何内容")
    _refused(project, write_xlsx_sheet(tmp_path / "rows.xlsx", [(None, None)] * 50), "没有任何已标注的行")
    (tmp_path / "zero.csv").write_bytes(b"")
    _refused(project, tmp_path / "zero.csv", "空的")


def test_empty_rows_between_data_are_ignored(project: Project, tmp_path: Path) -> None:
    sheet = write_xlsx_sheet(tmp_path / "gaps.xlsx", [(None, None), GOOD[0], ("", ""), (None, None), GOOD[1]])
    report = run_import(project, sheet)
    assert report.written and len(report.imported) == 2 and report.empty_rows >= 3


def test_too_many_rows_refused_quickly(project: Project, tmp_path: Path) -> None:
    rows = ((f"第{i}句话", "greet") for i in range(100_000))
    xlsx = write_xlsx_sheet(tmp_path / "huge.xlsx", rows)
    started = time.monotonic()
    _refused(project, xlsx, "超过上限", str(MAX_ROWS))
    assert time.monotonic() - started < 10
    csv_sheet = write_csv_sheet(tmp_path / "huge.csv", [(f"第{i}句话", "greet") for i in range(100_000)])
    started = time.monotonic()
    _refused(project, csv_sheet, "超过上限")
    assert time.monotonic() - started < 10


def test_formulas_and_injection_refused(project: Project, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "待标注"
    ws.append(["文本", "正确意图"])
    ws.append(["单子过了没有", "check_progress"])
    ws.append(['=HYPERLINK("http://evil.example","点我")', "greet"])
    ws.append(["利息", "=A2"])
    wb.save(tmp_path / "formula.xlsx")
    message = _refused(project, tmp_path / "formula.xlsx", "公式", "第 3 行")
    assert "第 4 行" in message
    for value in ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,2)"):
        _refused(project, write_csv_sheet(tmp_path / "inj.csv", [(value, "greet")]), "公式")


def test_neutralised_export_cells_are_plain_text(project: Project, tmp_path: Path) -> None:
    report = run_import(project, write_csv_sheet(tmp_path / "n.csv", [("'=这是客户原话", "greet")]))
    assert report.written and report.imported[0][1] == "=这是客户原话"


def test_personal_data_refused(project: Project, tmp_path: Path) -> None:
    rows = [("单子过了没有", "check_progress"), ("我手机13812345678 利息多少", "ask_interest_rate"),
            ("身份证110101199003071234", "check_progress"), ("我叫张三，转人工", "request_human")]
    message = _refused(project, write_xlsx_sheet(tmp_path / "pii.xlsx", rows), "个人信息", "手机号", "身份证号", "姓名")
    assert "13812345678" not in message  # the error itself never repeats the data
    masked = [("我手机138****5678 利息多少", "ask_interest_rate")]
    assert run_import(project, write_csv_sheet(tmp_path / "masked.csv", masked)).written


def test_not_a_spreadsheet(project: Project, tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    _refused(project, tmp_path / "fake.xlsx", "无法作为 Excel 文件打开")
    (tmp_path / "notes.txt").write_text("hi")
    _refused(project, tmp_path / "notes.txt", ".xlsx")
    (tmp_path / "gbk.csv").write_bytes("文本,正确意图\n单子过了没有,check_progress\n".encode("gb18030"))
    assert run_import(project, tmp_path / "gbk.csv").written  # Excel's Chinese CSV encoding is fine


def test_undo_import_restores_the_previous_state(project: Project, tmp_path: Path) -> None:
    before = sorted(p.name for p in project.ops_nlu_dir.glob("*.yml")) if project.ops_nlu_dir.exists() else []
    run_import(project, write_csv_sheet(tmp_path / "a.csv", GOOD[:1]))
    run_import(project, write_csv_sheet(tmp_path / "b.csv", GOOD[1:]))
    assert undo_batch(project, 2, "carol") == 2
    assert [c.text for c in read_ledger(project)] == [GOOD[0][0]]
    assert sorted(p.name for p in project.ops_nlu_dir.glob("*.yml")) == sorted(before + ["check_progress.yml"])
    assert read_nlu_file(project.ops_nlu_dir / "check_progress.yml")[0].text == GOOD[0][0]
    log = read_log(project)
    assert log[-1] == {**log[-1], "action": "undo", "batch": 2, "by": "carol", "rows": 2}
    # batch numbers are never reused
    assert run_import(project, write_csv_sheet(tmp_path / "c.csv", GOOD[1:2])).batch == 3
    assert json.loads(project.import_log.read_text(encoding="utf-8").splitlines()[-1])["batch"] == 3


def test_the_command_line_records_the_logged_in_account_never_a_typed_one(project: Project, tmp_path: Path,
                                                                         operators: Operators,
                                                                         capsys: pytest.CaptureFixture) -> None:
    from ops.access import audit

    sheet = write_csv_sheet(tmp_path / "ok.csv", GOOD)
    before = data_digest(project)
    assert main(["import", str(sheet), "--project", str(project.root)]) == 1  # no login: nothing written
    assert "请先登录" in capsys.readouterr().err
    assert main(["import", str(sheet), "--by", "alice", "--project", str(project.root)]) == 2
    assert "--by 已取消" in capsys.readouterr().err and data_digest(project) == before
    operators.act_as("anno")
    assert main(["import", str(sheet), "--project", str(project.root)]) == 0
    assert {c.by for c in read_ledger(project)} == {"anno"} and read_log(project)[-1]["by"] == "anno"
    assert main(["undo-import", "--batch", "1", "--project", str(project.root)]) == 0
    assert read_ledger(project) == [] and read_log(project)[-1]["by"] == "anno"
    assert [(e.who, e.action) for e in reversed(audit.entries(project))] == [("anno", "import"),
                                                                              ("anno", "undo_import")]
