"""docs/benchmarks.md: each benchmark script rewrites only its own section, between its markers."""
from __future__ import annotations

from pathlib import Path

from harness.paths import ROOT

BENCH_DOC = ROOT / "docs" / "benchmarks.md"


def replace_section(section: str, start: str, end: str, path: Path = BENCH_DOC) -> None:
    """Put ``section`` (which carries its own ``start``/``end`` markers) in place of the old one, or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
