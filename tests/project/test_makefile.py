"""The Makefile's .PHONY list names exactly the targets the Makefile defines."""
from __future__ import annotations

import re

from harness.paths import ROOT


def test_phony_names_exactly_the_defined_targets() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    phony = {name for line in re.findall(r"^\.PHONY:(.*)$", text, re.M) for name in line.split()}
    defined = {name for line in re.findall(r"^([A-Za-z0-9_-][A-Za-z0-9_ -]*):(?!=)", text, re.M)
               for name in line.split()}
    assert phony == defined, {"declared, not defined": sorted(phony - defined),
                              "defined, not declared": sorted(defined - phony)}
