"""The evaluation report: results/ops/<candidate>/report.md + confusion-matrix pictures."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import List, Sequence, Tuple

from ops.project import Project
from ops.retrain.gate_result import GateResult, RegressionSet


def confusion_png(path: Path, gold: Sequence[str], predicted: Sequence[str], title: str) -> None:
    import logging

    logging.getLogger("matplotlib").setLevel(logging.ERROR)  # style-file deprecation chatter
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(set(gold))
    cols = rows + sorted(set(predicted) - set(rows))
    counts = Counter(zip(gold, predicted, strict=True))
    matrix = [[counts[(g, p)] for p in cols] for g in rows]
    size = max(4.0, 0.45 * len(cols) + 2.5)
    fig, ax = plt.subplots(figsize=(size, max(3.5, 0.42 * len(rows) + 2.0)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    peak = max((max(r) for r in matrix), default=1) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                colour = "white" if value > peak / 2 else ("firebrick" if rows[i] != cols[j] else "black")
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7, color=colour)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}"


def write_report(out_dir: Path, project: Project, name: str, regression: RegressionSet, result: GateResult,
                 examples: Sequence[Tuple[str, str]], production: Sequence[str], candidate: Sequence[str]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    gold = [g for _, g in examples]
    confusion_png(out_dir / "confusion_candidate.png", gold, candidate, f"candidate {name}")
    confusion_png(out_dir / "confusion_production.png", gold, production, "production")
    lines: List[str] = [
        f"# 评估报告：{name}",
        "",
        f"**结论：{'通过，可以上线' if result.passed else '未通过，拒绝上线'}**",
        "",
    ]
    if result.reasons:
        lines += ["原因：", ""] + [f"- {r}" for r in result.reasons] + [""]
    if result.notes:
        lines += ["说明：", ""] + [f"- {n}" for n in result.notes] + [""]
    rule = result.rule
    lines += [
        f"闸门规则：宏平均 F1 下降超过 {rule.max_macro_drop:.1f} 个百分点，或任一业务意图 F1 下降超过 "
        f"{rule.max_intent_drop:.1f} 个百分点且多错至少 {rule.min_extra_errors} 条，即拒绝上线。"
        "nlu_fallback（未识别）一律算错。",
        "",
        "## 回归集",
        "",
        f"- 团队留出集 tests/nlu/heldout.yml：{regression.heldout} 句",
        f"- 已上线批次 {regression.batches or '无'} 的运营纠正：{regression.corrections} 句",
        f"- 本次评估的批次 {regression.judged_batches or '无'}：不在回归集中",
        f"- 合计 {len(examples)} 句（指纹 {regression.digest()}）",
        "",
        "## 总体",
        "",
        "| 模型 | 宏平均 F1 | 准确率 | 未识别(nlu_fallback) |",
        "|---|---:|---:|---:|",
        f"| 生产模型 | {_pct(result.macro_production)} | {_pct(result.accuracy_production)} | "
        f"{result.fallbacks_production} |",
        f"| 候选模型 | {_pct(result.macro_candidate)} | {_pct(result.accuracy_candidate)} | "
        f"{result.fallbacks_candidate} |",
        "",
        "## 各意图 F1",
        "",
        "| 意图 | 业务 | 样本数 | 生产 F1 | 候选 F1 | 变化 | 生产错误 | 候选错误 |",
        "|---|:-:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result.intents:
        lines.append(f"| {row.intent} | {'是' if row.business else ''} | {row.support} | {_pct(row.f1_production)} | "
                     f"{_pct(row.f1_candidate)} | {0.0 - row.drop + 0.0:+.1f} | {row.errors_production} | "
                     f"{row.errors_candidate} |")
    worse = [(t, g, p, c) for (t, g), p, c in zip(examples, production, candidate, strict=True) if p == g and c != g]
    better = [(t, g, p, c) for (t, g), p, c in zip(examples, production, candidate, strict=True) if p != g and c == g]
    lines += ["", f"## 候选模型新答错的句子（{len(worse)}）", ""]
    if worse:
        lines += ["| 句子 | 正确意图 | 候选模型判成 |", "|---|---|---|"]
        lines += [f"| {_cell(t)} | {g} | {c} |" for t, g, _, c in worse[:100]]
    lines += ["", f"## 候选模型新答对的句子（{len(better)}）", ""]
    if better:
        lines += ["| 句子 | 正确意图 | 生产模型判成 |", "|---|---|---|"]
        lines += [f"| {_cell(t)} | {g} | {p} |" for t, g, p, _ in better[:100]]
    lines += ["", "## 混淆矩阵", "", "候选模型：", "", "![候选模型混淆矩阵](confusion_candidate.png)", "",
              "生产模型：", "", "![生产模型混淆矩阵](confusion_production.png)", ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
