"""What the promotion gate decides and why: its rule, the regression set, one row per intent
and the result. Shared by ops/retrain/gate.py (which computes them) and ops/retrain/report.py (which
writes them up), so neither imports the other."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import List, Tuple


@dataclass(frozen=True)
class Rule:
    max_macro_drop: float = 1.0  # points of macro-F1
    max_intent_drop: float = 3.0  # points of a business intent's F1 ...
    min_extra_errors: int = 2  # ... and at least this many more errors


@dataclass
class RegressionSet:
    examples: List[Tuple[str, str]]  # (text, gold intent)
    heldout: int
    corrections: int
    batches: List[int]
    judged_batches: List[int]

    def digest(self) -> str:
        import hashlib

        return hashlib.sha256(json.dumps(self.examples, ensure_ascii=False).encode()).hexdigest()[:16]


@dataclass
class IntentRow:
    intent: str
    business: bool
    support: int
    f1_production: float
    f1_candidate: float
    errors_production: int
    errors_candidate: int
    top_confusion: str = ""  # most frequent wrong prediction among the candidate's new mistakes

    @property
    def drop(self) -> float:
        return (self.f1_production - self.f1_candidate) * 100

    @property
    def extra_errors(self) -> int:
        return self.errors_candidate - self.errors_production


@dataclass
class GateResult:
    passed: bool
    reasons: List[str]
    notes: List[str]
    macro_production: float
    macro_candidate: float
    accuracy_production: float
    accuracy_candidate: float
    fallbacks_production: int
    fallbacks_candidate: int
    n: int
    intents: List[IntentRow] = field(default_factory=list)
    rule: Rule = field(default_factory=Rule)

    @property
    def macro_drop(self) -> float:
        return (self.macro_production - self.macro_candidate) * 100

    def verdict(self) -> str:
        head = (f"宏平均 F1：生产模型 {self.macro_production * 100:.1f} → 候选模型 {self.macro_candidate * 100:.1f}"
                f"（{0.0 - self.macro_drop + 0.0:+.1f} 个百分点），回归集 {self.n} 句。")
        if self.passed:
            return f"通过评估闸门，可以上线。{head}"
        return "未通过评估闸门，拒绝上线。" + head + "\n原因：\n" + "\n".join(f"  - {r}" for r in self.reasons)
