"""The review spreadsheet: writing (XLSX with an intent drop-down, and CSV) and safe reading.

Reading rules (hostile files):
* only `.xlsx` and `.csv`, at most :data:`MAX_FILE_BYTES`;
* XLSX is opened with openpyxl in read-only (streaming) mode and *without* `data_only`, so a
  formula shows up as its formula text and is rejected (a cached value would hide it);
* the first non-empty row is the header; `文本` and `正确意图` are required;
* more than :data:`MAX_ROWS` data rows is refused as soon as row MAX_ROWS+1 is seen
  (or at once when the sheet's declared size says so) — nothing is loaded in full;
* any cell starting with = + - @ (or their full-width forms, tab, CR) is a potential
  formula / CSV injection: the whole sheet is refused. Exported cells that start that way
  carry a leading `'`, which is removed on import.
"""
from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence

from ops.project import OpsError
from ops.text import FORMULA_PREFIXES, looks_like_formula, neutralise_cell

MAX_ROWS = 5000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_CELL_CHARS = 2000
SHEET_NAME = "待标注"
INTENT_SHEET = "意图列表"

COL_ID = "编号"
COL_TEXT = "文本"
COL_PREDICTED = "预测意图"
COL_CONFIDENCE = "置信度"
COL_CHANNEL = "渠道"
COL_TIME = "时间"
COL_REASON = "原因"
COL_COUNT = "出现次数"
COL_INTENT = "正确意图"
COL_NOTE = "备注"
COLUMNS = [COL_ID, COL_TEXT, COL_PREDICTED, COL_CONFIDENCE, COL_CHANNEL, COL_TIME, COL_REASON, COL_COUNT,
           COL_INTENT, COL_NOTE]
REQUIRED = [COL_TEXT, COL_INTENT]


class SheetError(OpsError):
    """The sheet as a whole is unusable; nothing is imported."""


@dataclass
class SheetRow:
    line: int  # spreadsheet row number (1-based, header included), as the annotator sees it
    values: Dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class Sheet:
    path: Path
    rows: List[SheetRow]
    empty_rows: int = 0
    formula_cells: List[str] = field(default_factory=list)  # "第 12 行「文本」列" ...


# --------------------------------------------------------------------------- writing


def write_xlsx(path: Path, rows: Sequence[Dict[str, object]], intents: Sequence[str],
               labels: Optional[Dict[str, str]] = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    labels = labels or {}
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_safe_cell(row.get(c)) for c in COLUMNS])
    widths = {COL_ID: 8, COL_TEXT: 48, COL_PREDICTED: 22, COL_CONFIDENCE: 8, COL_CHANNEL: 8, COL_TIME: 19,
              COL_REASON: 36, COL_COUNT: 8, COL_INTENT: 26, COL_NOTE: 24}
    for index, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = widths[name]
    intent_col = get_column_letter(COLUMNS.index(COL_INTENT) + 1)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for r in range(2, len(rows) + 2):
        ws[f"{intent_col}{r}"].fill = fill
        ws[f"{get_column_letter(COLUMNS.index(COL_TEXT) + 1)}{r}"].alignment = Alignment(wrap_text=True)
    ws.freeze_panes = "C2"

    lists = wb.create_sheet(INTENT_SHEET)
    lists.append(["意图", "说明"])
    for intent in intents:
        lists.append([intent, labels.get(intent, "")])
    lists.column_dimensions["A"].width = 32
    lists.column_dimensions["B"].width = 40
    validation = DataValidation(type="list", formula1=f"'{INTENT_SHEET}'!$A$2:$A${len(intents) + 1}",
                                allow_blank=True, showErrorMessage=True, errorTitle="意图无效",
                                error="请从下拉列表中选择一个意图（见“意图列表”工作表）；不确定的行请留空。",
                                showInputMessage=True, promptTitle="正确意图",
                                prompt="从下拉列表选择；留空表示这一行不导入。")
    ws.add_data_validation(validation)
    validation.add(f"{intent_col}2:{intent_col}{max(len(rows) + 1, 2) + 500}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def write_csv(path: Path, rows: Iterable[Dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel opens it as UTF-8
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_safe_cell(row.get(c)) for c in COLUMNS])


def _safe_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise_cell(value)
    return value


# --------------------------------------------------------------------------- reading


def read_sheet(path: Path, max_rows: int = MAX_ROWS) -> Sheet:
    path = Path(path)
    if not path.exists():
        raise SheetError(f"找不到文件 {path}。")
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise SheetError(f"只支持 .xlsx 或 .csv 文件（收到 {path.name}）。")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SheetError(f"文件太大（{size / 1024 / 1024:.1f} MB），上限 {MAX_FILE_BYTES // 1024 // 1024} MB。")
    if size == 0:
        raise SheetError("文件是空的。")
    raw_rows = _xlsx_rows(path, max_rows) if suffix == ".xlsx" else _csv_rows(path)
    return _collect(path, raw_rows, max_rows)


def _xlsx_rows(path: Path, max_rows: int) -> Iterator[List[object]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise SheetError(f"无法作为 Excel 文件打开 {path.name}：{e}") from e
    try:
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
        declared = ws.max_row if isinstance(ws.max_row, int) else None
        if declared is not None and declared > max_rows + 1 + 1000:
            # the declared size is far beyond the limit: refuse without reading rows
            raise SheetError(_too_many(max_rows, f"约 {declared - 1}"))
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def _csv_rows(path: Path) -> Iterator[List[object]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                handle.read(1 << 16)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("CSV 文件编码无法识别（请保存为 UTF-8）。")
    try:
        with open(path, encoding=encoding, newline="") as handle:
            for row in csv.reader(handle):
                yield list(row)
    except (csv.Error, UnicodeDecodeError) as e:
        raise SheetError(f"CSV 文件格式错误：{e}") from e


def _too_many(max_rows: int, seen: str) -> str:
    return f"表格行数（{seen}）超过上限 {max_rows} 行，已拒绝。请拆分成多个文件分批导入。"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _collect(path: Path, raw_rows: Iterator[List[object]], max_rows: int) -> Sheet:
    header: Optional[List[str]] = None
    sheet = Sheet(path, [])
    line = 0
    for raw in raw_rows:
        line += 1
        cells = [_cell_text(v) for v in raw]
        if not any(c.strip() for c in cells):
            if header is not None:
                sheet.empty_rows += 1
            continue
        if header is None:
            header = [c.strip() for c in cells]
            _check_header(header)
            continue
        if len(sheet.rows) >= max_rows:
            raise SheetError(_too_many(max_rows, f"超过 {max_rows}"))
        values: Dict[str, str] = {}
        for name, value, original in zip(header, cells, raw, strict=False):
            if not name:
                continue
            if not isinstance(original, (str, int, float, type(None))) and not hasattr(original, "isoformat"):
                sheet.formula_cells.append(f"第 {line} 行「{name}」列")
                continue
            if len(value) > MAX_CELL_CHARS:
                value = value[:MAX_CELL_CHARS]
            if isinstance(original, str) and looks_like_formula(value):
                sheet.formula_cells.append(f"第 {line} 行「{name}」列")
            if value.startswith("'") and value[1:].lstrip(" ").startswith(FORMULA_PREFIXES):
                value = value[1:]  # neutralised by our export
            values[name] = value
        sheet.rows.append(SheetRow(line, values))
    if header is None:
        raise SheetError("表格里没有任何内容（找不到表头）。" + _expected())
    return sheet


def _expected() -> str:
    return f"需要的列：{'、'.join(REQUIRED)}（由 python -m ops export 导出的表格包含：{'、'.join(COLUMNS)}）。"


def _check_header(header: List[str]) -> None:
    names = [h for h in header if h]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        shown = "、".join(n for n in names[:12]) or "（空）"
        raise SheetError(f"表头缺少必需的列：{'、'.join(missing)}。当前表头：{shown}。" + _expected())
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SheetError(f"表头有重复的列：{'、'.join(duplicated)}。" + _expected())
