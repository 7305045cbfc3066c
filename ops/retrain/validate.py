"""Step 3 — validate the project: `rasa data validate` plus the project's own checks.

Own checks (fast, no Rasa import):
* 矛盾 — the same text (ops.text.normalize) labelled with two intents anywhere in data/;
* 留出集泄漏 — a training text that is also in tests/nlu/heldout.yml (an error in the ops
  files, a warning in hand-written files: short phrases such as 谢谢 can coincide);
* 样本不足 — a domain intent with fewer than `min_examples` training examples;
* 未声明意图 — training examples for an intent the domain does not declare;
* 合规 — every response text in the domain through credit.compliance.check_text;
* 台账一致 — data/nlu/ops/*.yml equal what the ledger generates (no hand edits).
"""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Set

from ops.progress import Stopwatch
from ops.project import Project
from ops.retrain.ledger import ops_files_in_sync
from ops.text import normalize

DEFAULT_MIN_EXAMPLES = 10
ERROR = "错误"
WARNING = "警告"


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level}] {self.check}：{self.message}"


def project_checks(project: Project, min_examples: int = DEFAULT_MIN_EXAMPLES) -> List[Finding]:
    from credit.compliance import check_text

    findings: List[Finding] = []
    examples = project.training_examples()
    intents = project.intents()

    labels: Dict[str, Set[str]] = {}
    where: Dict[str, Set[str]] = {}
    for ex in examples:
        key = normalize(ex.text)
        labels.setdefault(key, set()).add(ex.intent)
        where.setdefault(key, set()).add(project.rel(ex.source))
    for ex in examples:
        key = normalize(ex.text)
        if len(labels.get(key, ())) > 1:
            findings.append(Finding(ERROR, "矛盾", f"「{ex.text}」同时被标为 {'、'.join(sorted(labels[key]))}"
                                                 f"（{'、'.join(sorted(where[key]))}）"))
            labels[key] = set()  # report once

    heldout = {normalize(e.text) for e in project.heldout_examples()}
    for ex in examples:
        if normalize(ex.text) in heldout:
            level = ERROR if project.ops_nlu_dir in ex.source.parents else WARNING
            findings.append(Finding(level, "留出集泄漏", f"训练数据 {project.rel(ex.source)} 中的「{ex.text}」"
                                                      "也在 tests/nlu/heldout.yml 中"))

    counts = Counter(ex.intent for ex in examples)
    for intent in intents:
        if counts[intent] < min_examples:
            findings.append(Finding(ERROR, "样本不足", f"意图 {intent} 只有 {counts[intent]} 条训练样本"
                                                     f"（至少 {min_examples} 条）"))
    for intent in sorted(set(counts) - set(intents)):
        findings.append(Finding(ERROR, "未声明意图", f"训练数据里有意图 {intent}，但 domain 没有声明"))

    for name, text in project.responses():
        for violation in check_text(text):
            findings.append(Finding(ERROR, "合规", f"回复 {name}：{violation.rule} — {violation.detail}"))

    for path in ops_files_in_sync(project):
        findings.append(Finding(WARNING, "台账一致", f"{path} 与 data/regression/ops_corrections.yml 不一致"
                                                   "（被手工修改过？下次导入会按台账重写）"))
    return findings


def rasa_validate(project: Project) -> List[Finding]:
    """`rasa data validate --fail-on-warnings` (same as `make validate`)."""
    cmd = [sys.executable, "-m", "rasa", "data", "validate", "--config", project.rel(project.config),
           "--domain", project.rel(project.domain), "--data", project.rel(project.data), "--fail-on-warnings"]
    watch = Stopwatch()
    print("正在运行 rasa data validate（约半分钟）……", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=project.root, capture_output=True, text=True)
    print(f"rasa data validate 用时 {watch}", file=sys.stderr)
    if proc.returncode == 0:
        return []
    interesting = [line.strip() for line in (proc.stdout + "\n" + proc.stderr).splitlines()
                   if any(k in line for k in ("UserWarning", "WARNING", "ERROR", "Error", "error:"))
                   and "Deprecat" not in line]
    detail = "\n    ".join(interesting[-15:]) or (proc.stderr or proc.stdout).strip()[-1500:]
    return [Finding(ERROR, "rasa data validate", f"未通过（退出码 {proc.returncode}）：\n    {detail}")]


def run_validate(project: Project, min_examples: int = DEFAULT_MIN_EXAMPLES, with_rasa: bool = True
                 ) -> List[Finding]:
    findings = project_checks(project, min_examples)
    if with_rasa:
        findings.extend(rasa_validate(project))
    return findings
