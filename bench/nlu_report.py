"""The Markdown section `make bench` writes into docs/benchmarks.md (see bench/nlu_bench.py)."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

from bench.docs import BENCH_DOC, replace_section
from bench.machine import machine_facts
from ops.retrain.nlu_eval import SetScore, confusion_table

START, END = "<!-- nlu:start -->", "<!-- nlu:end -->"


@dataclass
class Row:
    system: str
    scores: Dict[str, SetScore]  # set name -> figures
    training: str


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _machine() -> str:
    m = machine_facts()
    load = ", ".join(f"{x:.1f}" for x in m["load_average_at_start"])
    return f"nproc {m['cores']}, {m['cpu']}, RAM {m['memory_gb']} GiB, load average at start {load} (shared machine)"


def _set_table(rows: List[Row], name: str) -> List[str]:
    lines = [f"#### {name}", "",
             "| system | accuracy | accuracy (any accepted label) | macro-F1 | fallback + out_of_scope on "
             "business intents | typo | other lender | voice | long |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        s = row.scores[name]
        cells = [f"{s.slices[t][0]:.3f} (n={s.slices[t][1]})" if t in s.slices else "–"
                 for t in ("typo", "other_lender", "voice", "long")]
        lines.append(f"| {row.system} | {s.report.accuracy:.3f} | {s.accuracy_any:.3f} | {s.report.macro_f1:.3f} "
                     f"| {s.lost:.1%} | " + " | ".join(cells) + " |")
    return lines + [""]


def _recall_table(rows: List[Row], names: List[str]) -> List[str]:
    """Per-intent recall of the first ours and the first tfidf_lr row on each set (the issue's weak intents)."""
    pair = [next(r for r in rows if r.system.startswith(p)) for p in ("ours", "tfidf_lr")
            if any(r.system.startswith(p) for r in rows)]
    intents = sorted({i for r in pair for n in names for i in r.scores[n].report.per_intent})
    head = " | ".join(f"{n} {r.system.split(' ')[0]}" for n in names for r in pair)
    lines = ["Per-intent recall (first seed of each system):", "", f"| intent | {head} |",
             "|---|" + "---:|" * (len(names) * len(pair))]
    for intent in intents:
        cells = []
        for n in names:
            for r in pair:
                score = r.scores[n].report.per_intent.get(intent)
                cells.append(f"{score.recall:.2f}" if score is not None and score.support else "–")
        lines.append(f"| {intent} | " + " | ".join(cells) + " |")
    return lines + [""]


def render(rows: List[Row], costs: Dict[str, object], command: str, n_train: int, sizes: Dict[str, int]) -> str:
    ours = next(r for r in rows if r.system.startswith("ours"))
    lines = [START, "## NLU", "",
             f"- date: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; machine: {_machine()}",
             f"- command: `{command}`",
             f"- training data: `data/nlu/` ({n_train} examples); sets: "
             + ", ".join(f"`{k}` {v}" for k, v in sizes.items())
             + " (`wild_test` is frozen and only scored; ours was tuned on `wild_dev` only)",
             "- scoring: `ops/retrain/nlu_eval.py`; `nlu_fallback` is a miss in every figure; "
             "macro-F1 over the gold intents (first label); slices are first-label accuracy on the examples tagged so",
             ""]
    for name in ours.scores:
        lines += _set_table(rows, name)
    lines += ["| system | NLU training (this run) |", "|---|---|"]
    lines += [f"| {r.system} | {r.training} |" for r in rows] + [""]
    parse_ours, parse_found = costs.get("parse_ours"), costs.get("parse_foundation")
    if isinstance(parse_ours, list) and isinstance(parse_found, list):
        lines += ["| NLU parse per message (wild_test, one at a time) | p50 ms | p95 ms |", "|---|---:|---:|",
                  f"| ours | {statistics.median(parse_ours):.1f} | {_pct(parse_ours, 0.95):.1f} |",
                  f"| foundation (today's pipeline before issue 9) | {statistics.median(parse_found):.1f} | "
                  f"{_pct(parse_found, 0.95):.1f} |",
                  f"| ratio ours / foundation | | {_pct(parse_ours, 0.95) / _pct(parse_found, 0.95):.2f}× |", ""]
    if "train_ours" in costs:
        t_ours, t_found = float(costs["train_ours"]), float(costs["train_foundation"])  # type: ignore[arg-type]
        lines += [f"- full `rasa train` (NLU + dialogue policies): ours {t_ours:.0f} s, foundation {t_found:.0f} s "
                  f"(ratio {t_ours / t_found:.2f}×)"]
    lines += _recall_table(rows, [n for n in ours.scores if n != "wild_dev"])
    lines += ["", "Top confusions of ours on wild_test (gold → predicted):", "",
              confusion_table(ours.scores["wild_test"].report, 10), END]
    return "\n".join(lines)


def write_section(section: str, path: Path = BENCH_DOC) -> None:
    replace_section(section, START, END, path)
