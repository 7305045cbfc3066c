"""`rasa test` for the dev model: test stories (failing on any prediction error) and the
NLU held-out set (reports in results/; the macro-F1 floor is asserted in tests/e2e)."""
from __future__ import annotations

import subprocess
import sys

from harness.paths import RASA, ROOT
from ops.model_cache import dev_model


def main() -> int:
    model = str(dev_model())
    core = subprocess.run([RASA, "test", "core", "--model", model, "--stories", "tests/stories",
                           "--out", "results/core", "--fail-on-prediction-errors"], cwd=ROOT)
    if core.returncode != 0:
        print("rasa test core: 测试故事有预测错误，见 results/core/failed_test_stories.yml", file=sys.stderr)
        return core.returncode
    nlu = subprocess.run([RASA, "test", "nlu", "--model", model, "--nlu", "tests/nlu/heldout.yml", "--domain", "domain",
                          "--out", "results/nlu", "--no-plot"], cwd=ROOT)
    return nlu.returncode


if __name__ == "__main__":
    sys.exit(main())
