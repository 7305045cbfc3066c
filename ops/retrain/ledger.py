"""The corrections ledger, the import log and the generated `data/nlu/ops/<intent>.yml` files.

* `data/regression/ops_corrections.yml` — every example ops ever imported, with its batch
  number, who imported it and when. It is the single source of the ops training files:
  `data/nlu/ops/<intent>.yml` is regenerated from it (so an import can be undone exactly).
  Its top-level key is `corrections:` (not `nlu:`), so Rasa never reads it as training data.
* `data/regression/import_log.jsonl` — append-only record of every import and undo.
* Batch numbers only ever grow (max over the log + 1), also across undos.

Writes are all-or-nothing: new contents are built in memory, checked by parsing them
back, then each file is replaced atomically (temp file + rename) under a lock file.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import yaml

from ops.project import OpsError, Project, parse_examples_block

LEDGER_HEADER = (
    "# 运营纠正台账（由 python -m ops import 写入，请勿手工编辑）。\n"
    "# 回归集 = tests/nlu/heldout.yml + 本台账中已随生产模型上线的批次（被评估的批次永远不在其中）。\n"
    "# data/nlu/ops/<意图>.yml 由本文件生成。\n"
)
OPS_FILE_HEADER = "# 由 python -m ops import 根据 data/regression/ops_corrections.yml 生成，请勿手工编辑。\n"


@dataclass(frozen=True)
class Correction:
    batch: int
    intent: str
    text: str
    predicted: str
    by: str
    at: str


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def current_user(explicit: Optional[str] = None) -> str:
    if explicit and explicit.strip():
        return explicit.strip()
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return os.environ.get("USER") or "unknown"


def read_ledger(project: Project) -> List[Correction]:
    if not project.ledger.exists():
        return []
    try:
        content = yaml.safe_load(project.ledger.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise OpsError(f"台账 {project.rel(project.ledger)} 无法解析：{e}") from e
    out: List[Correction] = []
    for item in content.get("corrections") or []:
        out.append(Correction(int(item["batch"]), str(item["intent"]), str(item["text"]),
                              str(item.get("predicted") or ""), str(item.get("by") or ""), str(item.get("at") or "")))
    return out


def read_log(project: Project) -> List[Dict[str, object]]:
    if not project.import_log.exists():
        return []
    entries = []
    for line in project.import_log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entries.append(json.loads(line))
    return entries


def next_batch(project: Project) -> int:
    used = [int(e.get("batch", 0)) for e in read_log(project)] + [c.batch for c in read_ledger(project)]
    return max(used, default=0) + 1


def max_batch(corrections: List[Correction]) -> int:
    return max((c.batch for c in corrections), default=0)


def render_ledger(corrections: List[Correction]) -> str:
    body = yaml.safe_dump({"corrections": [asdict(c) for c in corrections]}, allow_unicode=True,
                          sort_keys=False, width=10_000, default_flow_style=False)
    return LEDGER_HEADER + body


def render_ops_file(intent: str, texts: List[str]) -> str:
    lines = [OPS_FILE_HEADER, 'version: "3.1"\n', "nlu:\n", f"- intent: {intent}\n", "  examples: |\n"]
    lines.extend(f"    - {t}\n" for t in texts)
    content = "".join(lines)
    # The texts are single-line, control-free (ops.text.clean_text); prove the file reads back exactly.
    parsed = yaml.safe_load(content)
    back = parse_examples_block(parsed["nlu"][0]["examples"])
    if parsed["nlu"][0]["intent"] != intent or back != texts:
        raise OpsError(f"内部错误：生成的 data/nlu/ops/{intent}.yml 无法原样读回，已放弃写入。")
    return content


def planned_files(project: Project, corrections: List[Correction]) -> Dict[Path, Optional[str]]:
    """Target content of every ops file (None = delete) plus the ledger itself."""
    by_intent: Dict[str, List[str]] = {}
    for c in sorted(corrections, key=lambda c: c.batch):
        texts = by_intent.setdefault(c.intent, [])
        if c.text not in texts:
            texts.append(c.text)
    plan: Dict[Path, Optional[str]] = {project.ledger: render_ledger(corrections)}
    for intent, texts in sorted(by_intent.items()):
        plan[project.ops_nlu_dir / f"{intent}.yml"] = render_ops_file(intent, texts)
    if project.ops_nlu_dir.exists():
        for stale in project.ops_nlu_dir.glob("*.yml"):
            plan.setdefault(stale, None)
    return plan


def ops_files_in_sync(project: Project) -> List[str]:
    """Ops training files that differ from what the ledger says (hand edits)."""
    problems = []
    for path, content in planned_files(project, read_ledger(project)).items():
        if path == project.ledger:
            continue
        actual = path.read_text(encoding="utf-8") if path.exists() else None
        if actual != content:
            problems.append(project.rel(path))
    return problems


@contextlib.contextmanager
def locked(project: Project, what: str = "import") -> Iterator[None]:
    """One import/undo (or one promote/rollback) at a time; the lock lives outside data/."""
    lock = project.root / "var" / "ops" / f"{what}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            doing = "导入/撤销" if what == "import" else "上线/回滚"
            raise OpsError(f"另一个 ops {doing}正在进行，请稍后再试。") from e
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_ledger(project: Project, corrections: List[Correction], log_entry: Dict[str, object]) -> None:
    """Write ledger + regenerated ops files, then append the log entry (caller holds the lock)."""
    plan = planned_files(project, corrections)
    for path, content in plan.items():
        if content is None:
            path.unlink(missing_ok=True)
        elif not path.exists() or path.read_text(encoding="utf-8") != content:
            _atomic_write(path, content)
    with open(project.import_log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(log_entry, ensure_ascii=False) + "\n")


def undo_batch(project: Project, batch: int, by: str) -> int:
    """Remove one batch from the ledger and the ops training files; returns rows removed."""
    with locked(project):
        corrections = read_ledger(project)
        kept = [c for c in corrections if c.batch != batch]
        removed = len(corrections) - len(kept)
        if removed == 0:
            raise OpsError(f"台账里没有第 {batch} 批的数据。")
        write_ledger(project, kept, {"action": "undo", "batch": batch, "by": by, "at": now_iso(), "rows": removed})
        return removed


def retire_example(project: Project, text: str, intent: str, by: str) -> int:
    """Take one ops-imported example out of the ledger and the ops training files (logged as "retire")."""
    with locked(project):
        corrections = read_ledger(project)
        kept = [c for c in corrections if not (c.text == text and c.intent == intent)]
        removed = [c for c in corrections if c.text == text and c.intent == intent]
        if not removed:
            raise OpsError(f"台账里没有意图 {intent} 的样本「{text[:30]}」（人工编写的样本请在代码评审中修改）。")
        write_ledger(project, kept, {"action": "retire", "batch": removed[0].batch, "by": by, "at": now_iso(),
                                     "rows": len(removed), "intent": intent, "text": text})
        return len(removed)
