"""NLU quality gate on the independently written held-out set (tests/nlu/heldout.yml).

Scores the dev model (session fixture `model_path`: the cached dev model, trained once if
missing) in-process with bench/nlu_eval.py, including the FallbackClassifier: every
`nlu_fallback` counts as a miss. The model is loaded and the 402 utterances predicted
once per module; no test retrains anything.

Floors are set a few points below the measured figures so that ordinary retraining noise
(one or two utterances ~ 0.5 pt) passes and real regressions fail.
Measured MEASURED_PLACEHOLDER
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.nlu_eval import RasaPredictor, Report, confusion_table, evaluate, load_examples

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"

MACRO_F1_FLOOR = 0.90
PER_INTENT_F1_FLOOR = 0.60

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(model_path: Path) -> Report:
    examples = load_examples(HELDOUT)
    predicted = RasaPredictor(model_path).predict([text for text, _ in examples])
    return evaluate((gold, pred) for (_, gold), pred in zip(examples, predicted, strict=True))


def test_heldout_is_complete(report: Report) -> None:
    assert report.n == 402
    assert len(report.per_intent) == 22


def test_macro_f1_floor(report: Report) -> None:
    assert report.macro_f1 >= MACRO_F1_FLOOR, (
        f"macro-F1 {report.macro_f1:.3f} < {MACRO_F1_FLOOR} (accuracy {report.accuracy:.3f}, "
        f"{report.fallbacks} nlu_fallback)\n{confusion_table(report, 15)}"
    )


def test_every_intent_above_floor(report: Report) -> None:
    weak = {intent: round(s.f1, 3) for intent, s in report.per_intent.items() if s.f1 <= PER_INTENT_F1_FLOOR}
    assert not weak, f"intents with F1 <= {PER_INTENT_F1_FLOOR}: {weak}\n{confusion_table(report, 15)}"
