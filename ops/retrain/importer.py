"""Step 2 — import an annotated review sheet into the training data.

Rule (documented in README.md「运营手册」):
* Sheet-level problems refuse the whole file and change nothing: unreadable file, wrong
  columns, more than MAX_ROWS rows, any formula / injection cell, any personal data in a
  text, or nothing annotated at all.
* Row-level problems — unknown intent, empty or over-long text, entity-annotation syntax,
  the same text with another intent in the training data, in the team held-out set or
  elsewhere in the sheet — are listed per row. By default any of them refuses the whole
  import (nothing changes); with `--skip-invalid` the valid rows are imported and the
  rejected ones are only reported.
* Rows without a 正确意图 are not annotated and are skipped; texts already in the training
  data with the same intent, repeated rows and texts already in the held-out set with the
  same intent are skipped (reported, not errors).
Accepted rows become one batch: appended to data/regression/ops_corrections.yml and
written to data/nlu/ops/<intent>.yml; data/regression/import_log.jsonl records who, when,
which file (and its SHA-256) and how many rows.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ops.project import OpsError, Project, sha256_file
from ops.retrain.ledger import Correction, current_user, locked, next_batch, now_iso, read_ledger, write_ledger
from ops.retrain.sheet import COL_INTENT, COL_PREDICTED, COL_TEXT, MAX_ROWS, Sheet, SheetError, read_sheet
from ops.text import clean_text, normalize, personal_data_kinds

MAX_TEXT_CHARS = 200
_ANNOTATION = re.compile(r"\[[^\]]*\]\s*[({]")


@dataclass
class RowIssue:
    line: int
    text: str
    message: str


@dataclass
class ImportReport:
    file: Path
    batch: int = 0
    imported: List[Tuple[int, str, str]] = field(default_factory=list)  # (line, text, intent)
    predicted: Dict[int, str] = field(default_factory=dict)  # line -> the model's intent in the sheet
    errors: List[RowIssue] = field(default_factory=list)
    skipped: List[RowIssue] = field(default_factory=list)
    unannotated: int = 0
    empty_rows: int = 0
    written: bool = False

    def summary(self) -> str:
        parts = [f"可导入 {len(self.imported)} 行", f"错误 {len(self.errors)} 行", f"跳过 {len(self.skipped)} 行",
                 f"未标注 {self.unannotated} 行", f"空行 {self.empty_rows} 行"]
        return "，".join(parts)


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def check_sheet(project: Project, sheet: Sheet) -> ImportReport:
    """Classify every row; raises SheetError for sheet-level problems."""
    report = ImportReport(sheet.path, empty_rows=sheet.empty_rows)
    if sheet.formula_cells:
        shown = "、".join(sheet.formula_cells[:10]) + ("…" if len(sheet.formula_cells) > 10 else "")
        raise SheetError(f"表格含有公式或以 = + - @ 开头的单元格（可能是公式注入），已整表拒绝：{shown}。"
                         "请把这些单元格改成纯文本后重新导入。")
    intents = project.intents()
    valid = set(intents)
    by_norm_intent = {i.lower(): i for i in intents}
    training: Dict[str, set] = {}
    for example in project.training_examples():
        training.setdefault(normalize(example.text), set()).add(example.intent)
    heldout: Dict[str, set] = {}
    for example in project.heldout_examples():
        heldout.setdefault(normalize(example.text), set()).add(example.intent)

    personal: List[str] = []
    candidates: List[Tuple[int, str, str, str]] = []  # line, text, intent, predicted
    for row in sheet.rows:
        raw_text, raw_intent = row.get(COL_TEXT), row.get(COL_INTENT).strip()
        text = clean_text(raw_text)
        kinds = personal_data_kinds(text) if text else []
        if kinds:
            personal.append(f"第 {row.line} 行（{'、'.join(kinds)}）")
            continue
        if not raw_intent:
            if text:
                report.unannotated += 1
            else:
                report.empty_rows += 1
            continue
        intent = raw_intent if raw_intent in valid else by_norm_intent.get(raw_intent.lower(), "")
        if not text:
            report.errors.append(RowIssue(row.line, "", "文本为空，但填写了正确意图"))
        elif not intent:
            report.errors.append(RowIssue(row.line, text, f"意图「{_short(raw_intent)}」不存在（有效意图见"
                                                          "“意图列表”工作表或 domain）"))
        elif len(text) > MAX_TEXT_CHARS:
            report.errors.append(RowIssue(row.line, text, f"文本过长（{len(text)} 字，上限 {MAX_TEXT_CHARS}）"))
        elif _ANNOTATION.search(text):
            report.errors.append(RowIssue(row.line, text, "文本含有 [..](..) 形式的标注语法，请去掉方括号"))
        else:
            candidates.append((row.line, text, intent, row.get(COL_PREDICTED).strip()))
    if personal:
        shown = "、".join(personal[:10]) + ("…" if len(personal) > 10 else "")
        raise SheetError(f"表格文本中含有个人信息，已整表拒绝（导出的表格已脱敏，请不要填回原文）：{shown}。"
                         "请把身份证号、手机号、银行卡号、验证码、姓名删除或打码后重新导入。")

    sheet_intents: Dict[str, set] = {}
    for _, text, intent, _ in candidates:
        sheet_intents.setdefault(normalize(text), set()).add(intent)
    seen: set = set()
    for line, text, intent, predicted in candidates:
        key = normalize(text)
        others_train = training.get(key, set()) - {intent}
        others_heldout = heldout.get(key, set()) - {intent}
        if len(sheet_intents[key]) > 1:
            report.errors.append(RowIssue(line, text, "同一句话在表格里被标成了不同意图："
                                                      + "、".join(sorted(sheet_intents[key]))))
        elif others_train:
            report.errors.append(RowIssue(line, text, f"与现有训练数据矛盾：训练数据中这句话是 "
                                                      f"{'、'.join(sorted(others_train))}"))
        elif others_heldout:
            report.errors.append(RowIssue(line, text, f"与团队留出集矛盾：留出集中这句话是 "
                                                      f"{'、'.join(sorted(others_heldout))}"))
        elif key in heldout:
            report.skipped.append(RowIssue(line, text, "已在团队留出集中（留出集不能进训练数据），跳过"))
        elif key in training:
            report.skipped.append(RowIssue(line, text, "训练数据中已有这句话（意图相同），跳过"))
        elif key in seen:
            report.skipped.append(RowIssue(line, text, "表格中重复，跳过"))
        else:
            seen.add(key)
            report.imported.append((line, text, intent))
            report.predicted[line] = predicted
    return report


def run_import(project: Project, path: Path, by: Optional[str] = None, skip_invalid: bool = False,
               dry_run: bool = False, max_rows: int = MAX_ROWS) -> ImportReport:
    path = Path(path)
    sheet = read_sheet(path, max_rows)
    return import_sheet(project, sheet, by, skip_invalid, dry_run, path.name, sha256_file(path))


def import_sheet(project: Project, sheet: Sheet, by: Optional[str], skip_invalid: bool, dry_run: bool,
                 source: str, sha256: str, origin: str = "import") -> ImportReport:
    """Check and (unless refused) write one batch; the console's labels come through here too."""
    report = check_sheet(project, sheet)
    if not report.imported and not report.errors:
        if report.skipped:
            return report  # everything already known: nothing to do, not an error
        raise SheetError("表格中没有任何已标注的行（“正确意图”列全部为空）。")
    if report.errors and not skip_invalid:
        return report
    if dry_run or not report.imported:
        return report
    user = current_user(by)
    with locked(project):
        corrections = read_ledger(project)
        batch = next_batch(project)
        at = now_iso()
        new = [Correction(batch, intent, text, report.predicted.get(line, ""), user, at)
               for line, text, intent in report.imported]
        entry = {
            "action": "import", "batch": batch, "by": user, "at": at, "file": source, "origin": origin,
            "sha256": sha256, "rows": len(new), "rejected": len(report.errors),
            "skipped": len(report.skipped), "unannotated": report.unannotated,
            "intents": dict(Counter(c.intent for c in new).most_common()),
        }
        write_ledger(project, corrections + new, entry)
    report.batch = batch
    report.written = True
    return report


def format_report(report: ImportReport, limit: int = 50) -> str:
    lines = [f"文件：{report.file.name}", report.summary()]
    if report.errors:
        lines.append("错误（按行）：")
        lines.extend(f"  第 {i.line} 行「{_short(i.text)}」：{i.message}" for i in report.errors[:limit])
        if len(report.errors) > limit:
            lines.append(f"  ……另有 {len(report.errors) - limit} 行错误")
    if report.skipped:
        lines.append("跳过：")
        lines.extend(f"  第 {i.line} 行「{_short(i.text)}」：{i.message}" for i in report.skipped[:limit])
        if len(report.skipped) > limit:
            lines.append(f"  ……另有 {len(report.skipped) - limit} 行跳过")
    return "\n".join(lines)


__all__ = ["ImportReport", "OpsError", "check_sheet", "format_report", "run_import"]
