"""Step 4b — evaluate candidate vs production on the regression set and apply the gate.

Regression set = tests/nlu/heldout.yml + every ledger correction whose batch is already in
the production model (batch <= production batch). The batches being judged are exactly the
ones the candidate adds (production batch < b <= candidate batch), so they are never part
of the set they are judged on. Texts are de-duplicated (held-out label wins).

Scoring is ops/retrain/nlu_eval.py (`evaluate`, `RasaPredictor`): nlu_fallback counts as a miss.

Gate (refuse promotion when any holds):
1. macro-F1 drops by more than 1.0 point (0.010);
2. a business intent's F1 drops by more than 3.0 points *and* that intent has at least 2
   more errors than production (errors = false negatives + false positives for it).
Business intents are the domain's intents before the `# dialogue basics` marker.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ops.project import OpsError, Project, sha256_file
from ops.retrain.gate_result import GateResult, IntentRow, RegressionSet, Rule
from ops.retrain.ledger import now_iso, read_ledger
from ops.retrain.nlu_eval import FALLBACK_INTENT, NO_INTENT, RasaPredictor, evaluate
from ops.retrain.report import write_report
from ops.text import normalize

__all__ = ["GateResult", "IntentRow", "RegressionSet", "Rule", "judge", "regression_set", "run_evaluate"]


def regression_set(project: Project, production_batch: int, candidate_batch: int) -> RegressionSet:
    examples: List[Tuple[str, str]] = []
    seen: set = set()
    heldout = 0
    for ex in project.heldout_examples():
        key = normalize(ex.text)
        if key and key not in seen:
            seen.add(key)
            examples.append((ex.text, ex.intent))
            heldout += 1
    ledger = read_ledger(project)
    included = sorted({c.batch for c in ledger if c.batch <= production_batch})
    judged = sorted({c.batch for c in ledger if production_batch < c.batch <= candidate_batch})
    corrections = 0
    for c in ledger:
        key = normalize(c.text)
        if c.batch <= production_batch and key not in seen:
            seen.add(key)
            examples.append((c.text, c.intent))
            corrections += 1
    if not examples:
        raise OpsError("回归集是空的（没有 tests/nlu/heldout.yml，台账里也没有已上线的批次），无法评估。")
    return RegressionSet(examples, heldout, corrections, included, judged)


def _errors(pairs: Sequence[Tuple[str, str]]) -> Counter:
    errors: Counter = Counter()
    for gold, predicted in pairs:
        if gold != predicted:
            errors[gold] += 1  # false negative for the gold intent
            errors[predicted] += 1  # false positive for the predicted one
    return errors


def judge(gold: Sequence[str], production: Sequence[str], candidate: Sequence[str], business: Sequence[str],
          rule: Rule = Rule()) -> GateResult:
    prod_pairs = list(zip(gold, production, strict=True))
    cand_pairs = list(zip(gold, candidate, strict=True))
    prod, cand = evaluate(prod_pairs), evaluate(cand_pairs)
    prod_err, cand_err = _errors(prod_pairs), _errors(cand_pairs)
    confusions: Dict[str, Counter] = {}  # only the candidate's *new* mistakes (production got them right)
    for g, p, c in zip(gold, production, candidate, strict=True):
        if p == g and c != g:
            confusions.setdefault(g, Counter())[c] += 1
    business_set = set(business)
    rows: List[IntentRow] = []
    for intent in sorted(prod.per_intent):
        top = confusions.get(intent, Counter()).most_common(1)
        rows.append(IntentRow(intent, intent in business_set, prod.per_intent[intent].support,
                              prod.per_intent[intent].f1, cand.per_intent[intent].f1,
                              prod_err[intent], cand_err[intent], top[0][0] if top else ""))
    reasons: List[str] = []
    notes: List[str] = []
    eps = 1e-9
    macro_drop = (prod.macro_f1 - cand.macro_f1) * 100
    if macro_drop > rule.max_macro_drop + eps:
        reasons.append(f"整体变差：宏平均 F1 从 {prod.macro_f1 * 100:.1f} 降到 {cand.macro_f1 * 100:.1f}，"
                       f"下降 {macro_drop:.1f} 个百分点（最多允许下降 {rule.max_macro_drop:.1f}）。")
    for row in rows:
        if not row.business or row.drop <= rule.max_intent_drop + eps:
            continue
        if row.extra_errors >= rule.min_extra_errors:
            hint = (f"新模型常把这类话判成 {_label(row.top_confusion)}。" if row.top_confusion else "")
            reasons.append(f"业务意图 {row.intent} 变差：F1 从 {row.f1_production * 100:.1f} 降到 "
                           f"{row.f1_candidate * 100:.1f}（下降 {row.drop:.1f} 个百分点，"
                           f"允许 {rule.max_intent_drop:.1f}），"
                           f"错误从 {row.errors_production} 条增加到 {row.errors_candidate} 条。{hint}")
        else:
            notes.append(f"业务意图 {row.intent} 的 F1 下降 {row.drop:.1f} 个百分点，"
                         f"但只多错 {max(row.extra_errors, 0)} 条"
                         f"（少于 {rule.min_extra_errors} 条视为样本太少造成的波动，不拦截）。")
    missing = sorted(set(business) - set(prod.per_intent))
    if missing:
        notes.append(f"回归集中没有这些业务意图的样本，无法比较：{'、'.join(missing)}。")
    return GateResult(not reasons, reasons, notes, prod.macro_f1, cand.macro_f1, prod.accuracy, cand.accuracy,
                      prod.fallbacks, cand.fallbacks, prod.n, rows, rule)


def _label(intent: str) -> str:
    return "“未识别(nlu_fallback)”" if intent in (FALLBACK_INTENT, "<none>") else intent


def predict(model: Path, texts: Sequence[str], what: str, progress: bool = True) -> List[str]:
    from ops.progress import bar

    print(f"加载{what} {model.name} ……", file=sys.stderr, flush=True)
    _quiet_jieba()
    predictor = RasaPredictor(model)
    out: List[str] = []
    with bar(len(texts), f"评估{what}", "句", enabled=progress) as tick:
        for start in range(0, len(texts), 50):
            chunk = list(texts[start:start + 50])
            for parsed in predictor.parse(chunk):
                out.append((parsed.get("intent") or {}).get("name") or NO_INTENT)
                tick()
    return out


def _quiet_jieba() -> None:
    try:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:
        pass


def gate_path(candidate: Path) -> Path:
    return candidate.with_name(candidate.name[: -len(".tar.gz")] + ".gate.json")


def run_evaluate(project: Project, candidate_path: Optional[Path] = None, progress: bool = True,
                 rule: Rule = Rule()) -> Tuple[GateResult, Path]:
    from ops.retrain.store import current_production
    from ops.retrain.train import load_candidate

    candidate = load_candidate(project, candidate_path)
    production = current_production(project)
    prod_batch = int(production.get("batch") or 0)
    cand_batch = candidate.batch
    regression = regression_set(project, prod_batch, cand_batch)
    print(f"回归集：留出集 {regression.heldout} 句 + 已上线批次 {regression.batches or '无'} 的运营纠正 "
          f"{regression.corrections} 句；本次评估的批次 {regression.judged_batches or '无'} 不在其中。",
          file=sys.stderr)
    texts = [t for t, _ in regression.examples]
    gold = [g for _, g in regression.examples]
    prod_pred = predict(project.production_model, texts, "生产模型", progress)
    cand_pred = predict(candidate.path, texts, "候选模型", progress)
    result = judge(gold, prod_pred, cand_pred, project.business_intents(), rule)
    trained_on = candidate.meta.get("fingerprint")
    if trained_on and trained_on != project.fingerprint():
        result.notes.append("候选模型训练之后，训练数据或配置又有改动（例如又导入或撤销了一批），"
                            "这个候选模型不包含这些改动；需要的话请重新 train。")
    out_dir = project.results_dir / candidate.name
    report = write_report(out_dir, project, candidate.name, regression, result, regression.examples,
                          prod_pred, cand_pred)
    record: Dict[str, Any] = {
        "candidate": project.rel(candidate.path), "candidate_sha256": sha256_file(candidate.path),
        "candidate_model_id": candidate.meta.get("model_id"), "candidate_batch": cand_batch,
        "production_sha256": production["sha256"], "production_batch": prod_batch,
        "passed": result.passed, "reasons": result.reasons, "notes": result.notes,
        "macro_f1": {"production": result.macro_production, "candidate": result.macro_candidate},
        "regression_set": {"n": len(regression.examples), "heldout": regression.heldout,
                           "corrections": regression.corrections, "batches": regression.batches,
                           "judged_batches": regression.judged_batches, "digest": regression.digest()},
        "rule": asdict(rule), "report": project.rel(report), "evaluated_at": now_iso(),
    }
    text = json.dumps(record, ensure_ascii=False, indent=2)
    (out_dir / "gate.json").write_text(text, encoding="utf-8")
    gate_path(candidate.path).write_text(text, encoding="utf-8")
    return result, report


def load_gate(candidate: Path) -> Optional[Dict[str, Any]]:
    path = gate_path(candidate)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
