"""Export from a Rasa-shaped SQL tracker store: selection, masking, de-duplication, the sheet."""
from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path
from typing import Dict, List

import pytest
from openpyxl import load_workbook

from ops.access import audit
from ops.cli import main
from ops.project import OpsError, Project
from ops.retrain.export import run_export, tracker_db_url
from ops.retrain.importer import run_import
from tests.ops.conftest import Conversation, Operators, make_tracker_db

TODAY = dt.date.today()
NOON = dt.datetime.combine(TODAY, dt.time(12)).timestamp()


@pytest.fixture
def tracker(project: Project) -> Path:
    db = project.root / "var" / "tracker.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    make_tracker_db(db)
    (project.root / "endpoints.yml").write_text('tracker_store:\n  type: SQL\n  dialect: "sqlite"\n'
                                                '  db: "var/tracker.db"\n', encoding="utf-8")
    fallback_ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "check_progress", "confidence": 0.31}]
    # 1. confident greeting, then a fallback, then the customer rephrases
    (Conversation(db, "wx:o1", NOON).user("你好", "greet", 0.99).action("utter_greet")
     .user("单子过了没有", "nlu_fallback", 0.4, fallback_ranking).action("utter_default")
     .user("我的单子过了没有啊", "check_progress", 0.7, gap=20).save())
    # 2. a confidently wrong message followed by a request for a human (handoff action)
    (Conversation(db, "rest:c2", NOON).user("揪个小姐姐出来", "check_progress", 0.95).action("utter_progress")
     .user("转人工", "request_human", 0.99).action("action_handoff").save())
    # 3. the handoff payload of the real project; and a complaint next
    (Conversation(db, "web:c3", NOON).user("这钱要几个点", "ask_repayment", 0.9).bot("转人工", {"type": "handoff"})
     .user("能不能跟活人聊", "ask_repayment", 0.8).user("垃圾平台", "complain", 0.99).save())
    # 4. personal data, a formula-looking text, a button payload, the same low-confidence text twice
    (Conversation(db, "tel:c4", NOON).user("我叫张三，手机13812345678，钱到账没", "check_progress", 0.3)
     .user("=1+1", "greet", 0.2).user("/affirm", "affirm", 1.0).save())
    (Conversation(db, "c5", NOON).user("利息多少？？", "ask_interest_rate", 0.5).save())
    (Conversation(db, "ivr:c6", NOON).user("利息多少啊", "ask_interest_rate", 0.45).save())
    # 5. out of the date range
    (Conversation(db, "rest:old", NOON - 30 * 86400).user("很久以前的一句", "nlu_fallback", 0.4).save())
    return db


def _rows(path: Path) -> List[Dict[str, object]]:
    ws = load_workbook(path)["待标注"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_export_selects_masks_and_merges(project: Project, tracker: Path, tmp_path: Path) -> None:
    result = run_export(project, None, None, tmp_path / "review", progress=False)
    rows = _rows(result.xlsx)
    by_text = {r["文本"]: r for r in rows}
    # confident / the request itself
    assert "你好" not in by_text and "转人工" not in by_text and "垃圾平台" not in by_text
    assert "很久以前的一句" not in by_text and "/affirm" not in by_text
    assert "未识别" in by_text["单子过了没有"]["原因"] and "客户随后换了说法" in by_text["单子过了没有"]["原因"]
    assert "最接近 check_progress" in by_text["单子过了没有"]["原因"]
    assert "随后转人工" in by_text["揪个小姐姐出来"]["原因"]
    assert "随后转人工" in by_text["这钱要几个点"]["原因"]
    assert "随后投诉" in by_text["能不能跟活人聊"]["原因"]
    masked = "我叫张某，手机138****5678，钱到账没"
    assert masked in by_text and by_text[masked]["渠道"] == "tel"
    assert all("13812345678" not in str(r["文本"]) and "张三" not in str(r["文本"]) for r in rows)
    assert by_text["'=1+1"]["预测意图"] == "greet"  # neutralised: a text cell, not a formula
    merged = [r for r in rows if str(r["文本"]).startswith("利息多少")]
    assert len(merged) == 1 and merged[0]["出现次数"] == 2 and merged[0]["渠道"] == "rest/ivr"
    assert rows[0]["出现次数"] == 2  # most frequent first
    assert all(r["正确意图"] is None for r in rows)
    assert result.messages == 12 and result.rows == len(rows)

    # the drop-down lists exactly the domain intents
    wb = load_workbook(result.xlsx)
    validation = wb["待标注"].data_validations.dataValidation[0]
    assert validation.type == "list" and "意图列表" in validation.formula1
    listed = [r[0] for r in wb["意图列表"].iter_rows(min_row=2, values_only=True)]
    assert listed == project.intents()

    with open(result.csv, encoding="utf-8-sig", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert [r["文本"] for r in csv_rows] == [str(r["文本"]) for r in rows]
    assert "'=1+1" in [r["文本"] for r in csv_rows]


def test_exported_sheet_imports_after_annotation(project: Project, tracker: Path, tmp_path: Path) -> None:
    result = run_export(project, TODAY.isoformat(), TODAY.isoformat(), tmp_path / "review", progress=False)
    wb = load_workbook(result.xlsx)
    ws = wb["待标注"]
    labels = {"单子过了没有": "check_progress", "揪个小姐姐出来": "request_human", "'=1+1": "greet"}
    for row in ws.iter_rows(min_row=2):
        if row[1].value in labels:
            row[8].value = labels[row[1].value]
    wb.save(tmp_path / "done.xlsx")
    report = run_import(project, tmp_path / "done.xlsx", by="alice")
    assert report.written
    assert sorted(t for _, t, _ in report.imported) == sorted(["单子过了没有", "揪个小姐姐出来", "=1+1"])
    assert report.predicted and "nlu_fallback" in report.predicted.values()


def test_export_options_and_errors(project: Project, tracker: Path, tmp_path: Path, operators: Operators,
                                   capsys: pytest.CaptureFixture) -> None:
    everything = run_export(project, None, None, tmp_path / "all", everything=True, progress=False)
    texts = {r["文本"] for r in _rows(everything.xlsx)}
    assert {"你好", "转人工", "垃圾平台"} <= texts
    capped = run_export(project, None, None, tmp_path / "cap", max_rows=2, progress=False)
    assert capped.rows == 2 and capped.left_out > 0
    with pytest.raises(OpsError, match="日期格式"):
        run_export(project, "2025/01/01", None, tmp_path / "x", progress=False)
    with pytest.raises(OpsError, match="晚于"):
        run_export(project, "2025-02-01", "2025-01-01", tmp_path / "x", progress=False)
    assert tracker_db_url(project).endswith("var/tracker.db")
    (project.root / "endpoints.yml").write_text("tracker_store:\n  type: mongod\n", encoding="utf-8")
    with pytest.raises(OpsError, match="不是 SQL"):
        tracker_db_url(project)
    assert main(["export", "--project", str(project.root), "--db-url", "sqlite:////nonexistent/t.db"]) == 1
    assert "请先登录" in capsys.readouterr().err  # customers' messages, even masked: annotators only
    operators.act_as("trainer")
    assert main(["export", "--project", str(project.root)]) == 1 and "需要标注员角色" in capsys.readouterr().err
    operators.act_as("anno")
    assert main(["export", "--project", str(project.root), "--db-url", "sqlite:////nonexistent/t.db"]) == 1
    assert "找不到对话记录数据库" in capsys.readouterr().err
    assert main(["export", "--project", str(project.root), "--db-url", f"sqlite:///{tracker}", "--out",
                 str(tmp_path / "cli")]) == 0
    [entry] = audit.entries(project, action="export")
    assert entry.who == "anno" and entry.os_user and entry.host and "cli.xlsx" in entry.target


def test_export_of_many_messages_is_streamed_and_fast(project: Project, tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    make_tracker_db(db)
    for batch in range(20):
        conv = Conversation(db, f"rest:b{batch}", NOON - 5 * 86400)
        for i in range(1000):  # 20k distinct user messages, half of them low-confidence, 3 minutes apart
            n = batch * 1000 + i
            text = "额度" + chr(0x4E00 + n % 20000) + chr(0x4E00 + (n * 7 + 11) % 20000) + "怎么提"
            conv.user(text, "ask_loan_limit", 0.3 if i % 2 else 0.9, gap=180)
        conv.save()
    started = time.monotonic()
    result = run_export(project, None, None, tmp_path / "big", db_url=f"sqlite:///{db}", max_rows=5000, progress=False)
    assert result.messages == 20_000 and result.flagged == 10_000
    assert result.rows == 5000 and result.left_out == 5000
    assert time.monotonic() - started < 60


def test_tracker_url_follows_rasa_sql_settings(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_PASSWORD", "s3cret")
    (project.root / "endpoints.yml").write_text(
        'tracker_store:\n  type: SQL\n  dialect: "postgresql"\n  url: "db.internal"\n  port: 5432\n'
        '  db: "rasa"\n  username: "rasa"\n  password: "${TRACKER_PASSWORD}"\n', encoding="utf-8")
    assert tracker_db_url(project) == "postgresql://rasa:s3cret@db.internal:5432/rasa"
    (project.root / "endpoints.yml").write_text('tracker_store:\n  type: SQL\n  dialect: "sqlite"\n'
                                                '  db: "/abs/tracker.db"\n', encoding="utf-8")
    assert tracker_db_url(project) == "sqlite:////abs/tracker.db"


def test_every_export_is_audited(project: Project, tracker: Path, tmp_path: Path) -> None:
    import json

    run_export(project, TODAY.isoformat(), TODAY.isoformat(), tmp_path / "audited", progress=False, by="carol")
    records = [json.loads(line) for line in project.export_audit.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["who"] == "carol"
    assert records[-1]["range"] == [TODAY.isoformat(), TODAY.isoformat()]
    assert records[-1]["rows"] >= 1 and records[-1]["file"].endswith("audited.xlsx")
