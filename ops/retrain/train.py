"""Step 4a — train a candidate model into models/candidates/.

`rasa train` with the project's config.yml (fixed random seeds; PYTHONHASHSEED=0 for a
stable featuriser vocabulary order), after the fast project checks. The full Rasa log goes
to models/candidates/<name>.log; the terminal shows one progress line per phase and the
epoch percentage. Next to the model, <name>.json records the batch the candidate includes
(the newest ledger batch), the project fingerprint, the model id and who trained it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from ops.progress import Stopwatch
from ops.project import OpsError, Project, sha256_file
from ops.retrain.ledger import current_user, max_batch, now_iso, read_ledger
from ops.retrain.validate import ERROR, project_checks

_COMPONENT = re.compile(r"Starting to train component '([^']+)'")
_EPOCHS = re.compile(r"Epochs:\s+(\d+)%\|[^|]*\|\s*(\d+)/(\d+)")


@dataclass
class Candidate:
    path: Path
    meta: Dict[str, object]

    @property
    def name(self) -> str:
        return self.path.name[: -len(".tar.gz")]

    @property
    def batch(self) -> int:
        return int(self.meta.get("batch") or 0)


def model_id(path: Path) -> str:
    """The `model_id` in a Rasa model archive's metadata.json (what GET /status reports)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.name.lstrip("./") == "metadata.json":
                    handle = archive.extractfile(member)
                    if handle is not None:
                        return str(json.load(handle).get("model_id") or "")
    except (tarfile.TarError, OSError, ValueError) as e:
        raise OpsError(f"{path} 不是有效的 Rasa 模型文件：{e}") from e
    raise OpsError(f"{path} 里没有 metadata.json，不是 Rasa 3 模型。")


def meta_path(model: Path) -> Path:
    return model.with_name(model.name[: -len(".tar.gz")] + ".json")


def load_candidate(project: Project, path: Optional[Path] = None) -> Candidate:
    if path is None:
        models = sorted(project.candidates_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        if not models:
            raise OpsError("还没有候选模型，请先运行 python -m ops train。")
        path = models[-1]
    path = Path(path).resolve()
    if not path.exists() or not path.name.endswith(".tar.gz"):
        raise OpsError(f"找不到候选模型 {path}。")
    meta_file = meta_path(path)
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    return Candidate(path, meta)


class _Progress:
    """Turns Rasa's training log into short Chinese progress lines."""

    def __init__(self) -> None:
        self.watch = Stopwatch()
        self.component = "准备数据"
        self.last_shown = ""
        self.tty = sys.stderr.isatty()
        self.pending = ""

    def feed(self, chunk: str) -> None:
        # only complete lines/segments: a log line may be split across two reads
        text = self.pending + chunk
        cut = max(text.rfind("\n"), text.rfind("\r"))
        chunk, self.pending = text[: cut + 1], text[cut + 1:][-2000:]
        for match in _COMPONENT.finditer(chunk):
            self.component = match.group(1)
            self.show(f"训练组件 {self.component}")
        epochs = list(_EPOCHS.finditer(chunk))
        if epochs:
            percent, done, total = epochs[-1].groups()
            step = int(percent) // (1 if self.tty else 25)
            self.show(f"训练组件 {self.component}：第 {done}/{total} 轮（{percent}%）", key=f"{self.component}{step}")

    def show(self, message: str, key: Optional[str] = None) -> None:
        key = key or message
        if key == self.last_shown:
            return
        self.last_shown = key
        line = f"[训练 {self.watch}] {message}"
        if self.tty:
            print("\r" + line.ljust(70), end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def run_train(project: Project, by: Optional[str] = None, name: Optional[str] = None,
              skip_checks: bool = False) -> Candidate:
    if not skip_checks:
        errors = [f for f in project_checks(project) if f.level == ERROR]
        if errors:
            shown = "\n  ".join(str(f) for f in errors[:20])
            raise OpsError(f"项目检查未通过，没有训练（先修正，或运行 python -m ops validate 查看全部）：\n  {shown}")
    batch = max_batch(read_ledger(project))
    name = name or f"candidate-{dt.datetime.now():%Y%m%d-%H%M%S}-b{batch}"
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise OpsError("模型名只能包含字母、数字、点、下划线和短横线。")
    project.candidates_dir.mkdir(parents=True, exist_ok=True)
    target = project.candidates_dir / f"{name}.tar.gz"
    log_path = project.candidates_dir / f"{name}.log"
    fingerprint = project.fingerprint()
    cmd: List[str] = [sys.executable, "-m", "rasa", "train", "--config", project.rel(project.config),
                      "--domain", project.rel(project.domain), "--data", project.rel(project.data),
                      "--out", project.rel(project.candidates_dir), "--fixed-model-name", name]
    env = {**os.environ, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    progress = _Progress()
    included = f"含第 {batch} 批及之前的运营数据" if batch else "尚无运营导入数据"
    progress.show(f"开始训练候选模型 {name}（{included}）")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        try:
            while True:
                chunk = proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
                if not chunk:
                    break
                log.write(chunk)
                progress.feed(chunk.decode("utf-8", errors="replace"))
            code = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=30)
            raise
    progress.done()
    if code != 0 or not target.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise OpsError(f"训练失败（退出码 {code}），完整日志：{project.rel(log_path)}\n  " + "\n  ".join(tail))
    meta = {
        "name": name, "file": project.rel(target), "created_at": now_iso(), "by": current_user(by),
        "batch": batch, "fingerprint": fingerprint, "model_id": model_id(target), "sha256": sha256_file(target),
        "train_seconds": round(progress.watch.elapsed(), 1), "log": project.rel(log_path),
    }
    meta_path(target).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"候选模型已训练：{project.rel(target)}（用时 {progress.watch}）", file=sys.stderr)
    return Candidate(target, meta)
