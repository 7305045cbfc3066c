"""The gate rule and the regression set (no models needed)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from ops.project import Project
from ops.retrain.gate import Rule, judge, regression_set
from ops.retrain.importer import run_import
from tests.ops.conftest import write_csv_sheet

INTENTS = [f"intent_{i:02d}" for i in range(20)]


def _perfect(per_intent: int = 15) -> Tuple[List[str], List[str]]:
    gold = [intent for intent in INTENTS for _ in range(per_intent)]
    return gold, list(gold)


def _break(predictions: List[str], gold: List[str], intent: str, count: int, into: str) -> List[str]:
    out = list(predictions)
    changed = 0
    for index, g in enumerate(gold):
        if g == intent and changed < count:
            out[index] = into
            changed += 1
    return out


def test_identical_models_pass() -> None:
    gold, prod = _perfect()
    result = judge(gold, prod, list(prod), INTENTS)
    assert result.passed and not result.reasons and "通过" in result.verdict()


def test_macro_f1_drop_over_one_point_refuses() -> None:
    gold, prod = _perfect()
    cand = prod
    for intent in INTENTS[:8]:  # 8 intents x 3 errors: macro-F1 drops by about 2 points
        cand = _break(cand, gold, intent, 3, "nlu_fallback")
    result = judge(gold, prod, cand, [])  # no business intents: only the macro rule applies
    assert not result.passed
    assert any("宏平均 F1" in r for r in result.reasons)
    assert "拒绝上线" in result.verdict()


def test_business_intent_needs_drop_and_two_more_errors() -> None:
    gold, prod = _perfect()
    one = _break(prod, gold, "intent_00", 1, "intent_01")  # F1 drop > 3 points, but a single error
    result = judge(gold, prod, one, INTENTS)
    assert result.macro_drop <= 1.0
    assert result.passed, result.reasons
    assert any("intent_00" in n and "波动" in n for n in result.notes)

    two = _break(prod, gold, "intent_00", 2, "intent_01")  # two more errors: refused
    result = judge(gold, prod, two, INTENTS)
    assert result.macro_drop <= 1.0
    assert not result.passed
    assert any(r.startswith("业务意图 intent_00") and "intent_01" in r for r in result.reasons)


def test_basic_intents_only_count_through_macro_f1() -> None:
    gold, prod = _perfect()
    cand = _break(prod, gold, "intent_19", 2, "intent_18")
    business = INTENTS[:10]
    assert judge(gold, prod, cand, business).passed
    assert not judge(gold, prod, cand, INTENTS).passed


def test_fallback_counts_as_a_miss_and_improvements_pass() -> None:
    gold, good = _perfect()
    worse = _break(good, gold, "intent_03", 3, "nlu_fallback")
    assert not judge(gold, good, worse, INTENTS).passed
    assert judge(gold, worse, good, INTENTS).passed  # the candidate fixes what production got wrong


def test_custom_rule_thresholds() -> None:
    gold, prod = _perfect()
    cand = _break(prod, gold, "intent_00", 2, "intent_01")
    assert judge(gold, prod, cand, INTENTS, Rule(max_intent_drop=10.0)).passed


def test_regression_set_excludes_the_batches_being_judged(project: Project, tmp_path: Path) -> None:
    for name, text, intent in [("a", "单子过了没有", "check_progress"), ("b", "能不能跟活人聊", "request_human"),
                               ("c", "这钱要几个点", "ask_interest_rate")]:
        run_import(project, write_csv_sheet(tmp_path / f"{name}.csv", [(text, intent)]))
    heldout = len(project.heldout_examples())
    live = regression_set(project, production_batch=1, candidate_batch=3)
    texts = [t for t, _ in live.examples]
    assert live.heldout == heldout and live.corrections == 1
    assert "单子过了没有" in texts and "能不能跟活人聊" not in texts and "这钱要几个点" not in texts
    assert live.batches == [1] and live.judged_batches == [2, 3]
    first = regression_set(project, production_batch=0, candidate_batch=3)
    assert first.corrections == 0 and first.judged_batches == [1, 2, 3]
    assert first.digest() != live.digest()
