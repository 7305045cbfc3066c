"""NLU quality gate on the independently written held-out set (tests/nlu/heldout.yml).

Scores the dev model (session fixture `model_path`: the cached dev model, trained once if
missing) in-process with ops/retrain/nlu_eval.py, including the FallbackClassifier: every
`nlu_fallback` counts as a miss. The model is loaded and the 402 utterances predicted
once per module; no test retrains anything.

Floors are set below the measured figures so that ordinary retraining noise passes and real
regressions fail. Measured 2026-11-23 (`make bench`, docs/benchmarks.md; dev model
b9d16799e5bb6479, 1530 training examples): macro-F1 0.932, accuracy 0.925, 6 nlu_fallback;
lowest intents out_of_scope 0.839, inform 0.863. Retraining the same data with other seeds
gave macro-F1 0.921-0.935 (one held-out utterance ~ 0.25 pt accuracy, ~0.5-1 pt F1 of a
10-example intent), hence the floors: macro-F1 0.90, every intent F1 > 0.70 (affirm 0.70 and deny 0.74
before their training data was filled in — that is the kind of regression to catch).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.retrain.nlu_eval import (
    RasaPredictor,
    Report,
    SetScore,
    confusion_table,
    evaluate,
    load_examples,
    load_labelled,
    overlaps,
    score_set,
)

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
TRAIN_NLU = ROOT / "data" / "nlu"

MACRO_F1_FLOOR = 0.90
PER_INTENT_F1_FLOOR = 0.70


def test_training_data_does_not_contain_heldout_utterances() -> None:
    """Fast guard: the held-out set only measures generalisation while no training example equals one of
    its utterances (compared after NFKC, lower-casing and dropping spaces/punctuation/emoji)."""
    exact, _near = overlaps([t for t, _ in load_examples(TRAIN_NLU)], [t for t, _ in load_examples(HELDOUT)])
    assert not exact, f"training examples copied from tests/nlu/heldout.yml (remove them from data/nlu): {exact}"


@pytest.fixture(scope="module")
def report(model_path: Path) -> Report:
    examples = load_examples(HELDOUT)
    predicted = RasaPredictor(model_path).predict([text for text, _ in examples])
    return evaluate((gold, pred) for (_, gold), pred in zip(examples, predicted, strict=True))


@pytest.mark.slow
def test_heldout_is_complete(report: Report) -> None:
    assert report.n == 402
    assert len(report.per_intent) == 22


@pytest.mark.slow
def test_macro_f1_floor(report: Report) -> None:
    assert report.macro_f1 >= MACRO_F1_FLOOR, (
        f"macro-F1 {report.macro_f1:.3f} < {MACRO_F1_FLOOR} (accuracy {report.accuracy:.3f}, "
        f"{report.fallbacks} nlu_fallback)\n{confusion_table(report, 15)}"
    )


@pytest.mark.slow
def test_every_intent_above_floor(report: Report) -> None:
    weak = {intent: round(s.f1, 3) for intent, s in report.per_intent.items() if s.f1 <= PER_INTENT_F1_FLOOR}
    assert not weak, f"intents with F1 <= {PER_INTENT_F1_FLOOR}: {weak}\n{confusion_table(report, 15)}"


# ---------------------------------------------------------------- real-customer-style set (issue 9)

WILD_TEST = ROOT / "tests" / "nlu" / "wild_test.yml"
WILD_ACCURACY_FLOOR = 0.90  # issue 9 acceptance: accuracy >= 0.90 and macro-F1 >= 0.88 on wild_test
WILD_MACRO_F1_FLOOR = 0.88
WILD_LOST_CEILING = 0.05  # nlu_fallback + out_of_scope on business-intent messages
NON_BUSINESS = {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope", "inform",
                "give_suggestion"}


@pytest.fixture(scope="module")
def wild(model_path: Path) -> SetScore:
    examples = load_labelled(WILD_TEST)
    predicted = RasaPredictor(model_path).predict([e.text for e in examples])
    return score_set(examples, predicted, {e.gold for e in examples} - NON_BUSINESS)


@pytest.mark.slow
def test_wild_test_floor(wild: SetScore) -> None:
    """The frozen real-customer-style set (never tuned on): the figures issue 9 asks for."""
    assert wild.report.n >= 450
    assert wild.report.accuracy >= WILD_ACCURACY_FLOOR, confusion_table(wild.report, 15)
    assert wild.report.macro_f1 >= WILD_MACRO_F1_FLOOR, confusion_table(wild.report, 15)
    assert wild.lost <= WILD_LOST_CEILING
