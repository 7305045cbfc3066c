"""未识别问题 inbox: the `ops export` selection, masked, grouped by similarity, labelled through the ledger.

* Selection and masking are `ops.retrain.export.read_conversations` + `ops.retrain.export.select` (the same rows
  the spreadsheet gets).
* Rows whose masked texts are similar (`ops.retrain.export.similarity` >= GROUP_SIMILARITY) form one group,
  so one label covers many.
* Labels are imported as one batch through `ops.retrain.importer.import_sheet` — the same checks
  (contradictions, held-out set, personal data) and the same ledger as `ops import`.
* Skip and "new need" are stored in the console database (`inbox_decisions`); decided rows leave
  the inbox.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ops.project import OpsError, Project
from ops.retrain.export import (
    DEFAULT_MIN_CONFIDENCE,
    Candidate,
    read_conversations,
    select,
    similarity,
    tracker_db_url,
)
from ops.retrain.importer import ImportReport, import_sheet
from ops.retrain.sheet import COL_INTENT, COL_PREDICTED, COL_TEXT, Sheet, SheetRow
from ops.statedb import connect
from ops.text import near_key

GROUP_SIMILARITY = 0.6
SKIP, FLAG, LABEL = "skip", "new_need", "label"
DECISIONS = {SKIP: "已跳过", FLAG: "新需求", LABEL: "已标注"}


@dataclass
class Item:
    key: str
    text: str  # masked
    intent: str
    confidence: float
    reasons: List[str]
    count: int
    channels: List[str]
    best_guess: str = ""


@dataclass
class Group:
    items: List[Item] = field(default_factory=list)

    @property
    def id(self) -> str:
        return hashlib.sha256(self.items[0].key.encode()).hexdigest()[:12]

    @property
    def count(self) -> int:
        return sum(i.count for i in self.items)


def _item(c: Candidate) -> Item:
    return Item(near_key(c.text), c.text, c.intent, c.confidence, list(c.reasons), c.count, list(c.channels),
                c.best_guess)


def group(items: Sequence[Item], threshold: float = GROUP_SIMILARITY) -> List[Group]:
    groups: List[Group] = []
    for item in items:
        for g in groups:
            if similarity(g.items[0].text, item.text) >= threshold:
                g.items.append(item)
                break
        else:
            groups.append(Group([item]))
    return sorted(groups, key=lambda g: -g.count)


def decisions(project: Project) -> Dict[str, Dict[str, object]]:
    conn = connect(project)
    try:
        return {r["key"]: dict(r) for r in conn.execute("SELECT * FROM inbox_decisions")}
    finally:
        conn.close()


def load(project: Project, since: dt.date, until: dt.date, db_url: Optional[str] = None,
         min_confidence: float = DEFAULT_MIN_CONFIDENCE, include_decided: bool = False, limit: int = 500
         ) -> Tuple[List[Group], int]:
    """(open groups, number of decided rows hidden) for the period."""
    start = dt.datetime.combine(since, dt.time()).timestamp()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).timestamp()
    url = db_url or tracker_db_url(project)
    candidates, _, _ = select(read_conversations(url, start, end, progress=False), min_confidence)
    done = decisions(project)
    items = [_item(c) for c in candidates]
    hidden = sum(1 for i in items if i.key in done)
    if not include_decided:
        items = [i for i in items if i.key not in done]
    return group(items[:limit]), hidden


def new_needs(project: Project, limit: int = 100) -> List[Dict[str, object]]:
    """Messages flagged as a "new need" (something the assistant does not cover yet), newest first."""
    conn = connect(project)
    try:
        rows = conn.execute("SELECT * FROM inbox_decisions WHERE decision = ? ORDER BY at DESC LIMIT ?", (FLAG, limit))
        return [{**dict(r), "when": dt.datetime.fromtimestamp(r["at"]).strftime("%Y-%m-%d %H:%M")} for r in rows]
    finally:
        conn.close()


def _decide(project: Project, rows: Sequence[Tuple[str, str, str, str]], decision: str, by: str,
            batch: int = 0) -> None:
    conn = connect(project)
    try:
        for key, text, intent, note in rows:
            conn.execute("INSERT OR REPLACE INTO inbox_decisions (key, decision, intent, text, note, by, at, batch) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (key, decision, intent, text, note, by, time.time(), batch))
    finally:
        conn.close()


def mark(project: Project, texts: Sequence[str], decision: str, by: str, note: str = "") -> int:
    if decision not in (SKIP, FLAG):
        raise OpsError("未知的处理方式。")
    rows = [(near_key(t), t, "", note[:200]) for t in texts if t.strip()]
    _decide(project, rows, decision, by)
    return len(rows)


def label(project: Project, labels: Sequence[Tuple[str, str]], by: str, predicted: Optional[Dict[str, str]] = None
          ) -> ImportReport:
    """Import (text, intent) pairs as one batch through the importer; nothing is written on any error."""
    predicted = predicted or {}
    rows = [SheetRow(line, {COL_TEXT: text, COL_INTENT: intent, COL_PREDICTED: predicted.get(text, "")})
            for line, (text, intent) in enumerate(labels, start=2) if text.strip() and intent.strip()]
    if not rows:
        raise OpsError("没有选择任何意图。请先为至少一条消息选择正确意图。")
    digest = hashlib.sha256(json.dumps(list(labels), ensure_ascii=False).encode()).hexdigest()
    sheet = Sheet(Path("控制台标注"), rows)
    report = import_sheet(project, sheet, by, skip_invalid=False, dry_run=False, source="控制台标注",
                          sha256=digest, origin="console")
    if report.written or (not report.errors and report.skipped):
        done = [(near_key(row.get(COL_TEXT)), row.get(COL_TEXT), row.get(COL_INTENT), "") for row in rows]
        _decide(project, done, LABEL, by, report.batch)
    return report
