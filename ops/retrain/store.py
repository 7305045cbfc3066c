"""The production model slot: models/production/model.tar.gz, its history and manifest.json.

manifest.json:
    {"current": Entry, "history": [Entry, ...  newest last], "retired": [Entry, ...], "log": [...]}
Entry: {"file", "source", "model_id", "sha256", "batch", "promoted_at", "promoted_by", "gate"}.
`history` is the rollback stack: promote pushes the outgoing model, rollback pops it.
A production model that the manifest does not know (e.g. made by `scripts/model.py
production`) is adopted with batch 0 — it is treated as containing no ops batch, so every
batch in the ledger counts as "being judged" and none enters the regression set.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from ops.project import OpsError, Project, sha256_file
from ops.retrain.ledger import now_iso

KEEP_HISTORY = 10
UNMANAGED = "unmanaged"  # a production model that did not come through `python -m ops promote`


def label(entry: Dict[str, Any]) -> str:
    source = str(entry.get("source") or "")
    return "未经 ops 上线的模型" if source in ("", UNMANAGED) else source


def load_manifest(project: Project) -> Dict[str, Any]:
    manifest: Dict[str, Any] = {"current": None, "history": [], "retired": [], "log": []}
    if project.manifest.exists():
        try:
            manifest.update(json.loads(project.manifest.read_text(encoding="utf-8")))
        except ValueError as e:
            raise OpsError(f"{project.rel(project.manifest)} 已损坏：{e}") from e
    return manifest


def save_manifest(project: Project, manifest: Dict[str, Any]) -> None:
    project.production_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=project.production_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    os.replace(tmp, project.manifest)


def current_production(project: Project) -> Dict[str, Any]:
    """Manifest entry of the production model (adopted with batch 0 if unknown)."""
    from ops.retrain.train import model_id

    if not project.production_model.exists():
        raise OpsError(f"没有生产模型 {project.rel(project.production_model)}。"
                       "首次上线请先运行 python scripts/model.py production（或 make run）。")
    manifest = load_manifest(project)
    sha = sha256_file(project.production_model)
    current = manifest.get("current")
    if current and current.get("sha256") == sha:
        return current
    return {"file": project.rel(project.production_model), "source": UNMANAGED,
            "model_id": model_id(project.production_model), "sha256": sha, "batch": 0,
            "promoted_at": None, "promoted_by": None, "gate": None}


def atomic_copy(source: Path, target: Path) -> None:
    """Copy to a temp file next to the target, then rename over it (readers never see half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        shutil.copy2(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def archive_current(project: Project, entry: Dict[str, Any], label: str) -> Dict[str, Any]:
    """Copy the production file into history/ and return its entry pointing there."""
    stamp = now_iso().replace(":", "").replace("-", "")[:15]
    source = str(entry.get("source") or "model")
    safe = "".join(ch for ch in source if ch.isascii() and (ch.isalnum() or ch in "._-")) or "model"
    target = project.history_dir / f"{stamp}-{label}-{safe}.tar.gz"
    atomic_copy(project.production_model, target)
    return {**entry, "file": project.rel(target)}


def prune_history(project: Project, manifest: Dict[str, Any]) -> None:
    """Keep the newest KEEP_HISTORY files referenced by history/retired; delete older ones."""
    entries: List[Dict[str, Any]] = manifest["history"] + manifest["retired"]
    keep = {e["file"] for e in manifest["history"][-KEEP_HISTORY:]} | {e["file"] for e in manifest["retired"][-3:]}
    for entry in entries:
        if entry["file"] not in keep:
            (project.root / entry["file"]).unlink(missing_ok=True)
    manifest["history"] = [e for e in manifest["history"] if e["file"] in keep]
    manifest["retired"] = [e for e in manifest["retired"] if e["file"] in keep]


def history_path(project: Project, entry: Dict[str, Any]) -> Path:
    path = project.root / str(entry["file"])
    if not path.exists():
        raise OpsError(f"历史模型文件 {entry['file']} 不见了，无法回滚。")
    return path


def summary(project: Project) -> str:
    manifest = load_manifest(project)
    lines: List[str] = []
    try:
        current = current_production(project)
        lines.append(f"生产模型：{project.rel(project.production_model)}（来源 {label(current)}，"
                     f"含运营批次 ≤ {current.get('batch')}，上线于 {current.get('promoted_at') or '未知'}）")
    except OpsError as e:
        lines.append(str(e))
    history = manifest.get("history") or []
    lines.append(f"可回滚的历史模型：{len(history)} 个" + (f"（最近：{label(history[-1])}）" if history else ""))
    return "\n".join(lines)


def find_entry(entries: List[Dict[str, Any]], source: Optional[str]) -> int:
    if source is None:
        return len(entries) - 1
    for index in range(len(entries) - 1, -1, -1):
        if entries[index].get("source") == source or entries[index].get("model_id") == source:
            return index
    raise OpsError(f"历史中没有模型 {source}。")
