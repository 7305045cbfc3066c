"""The frozen fresh conversation sets (tests/dialogue/fresh_set*.yml) are only ever scored: no customer turn of
theirs (longer than a stock phrase) may appear in the NLU training data or the stories."""
from __future__ import annotations

import re

import yaml

from harness.paths import ROOT

STOCK = 6  # "客服你好" "审批进度": phrases too short to be anyone's sentence


def _frozen_turns() -> set[str]:
    turns = set()
    for path in sorted((ROOT / "tests" / "dialogue").glob("fresh_set*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            turns.update(t["user"].strip() for t in conversation["turns"] if len(t["user"].strip()) > STOCK)
    return turns


def test_no_frozen_turn_is_training_data():
    frozen = _frozen_turns()
    assert len(frozen) > 300
    leaked = []
    for path in sorted((ROOT / "data").rglob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*-?\s*(?:user:\s*)?(.+?)\s*$", line)
            if m and m.group(1).strip("|\" ") in frozen:
                leaked.append(f"{path.relative_to(ROOT)}: {m.group(1)}")
    assert not leaked, leaked
