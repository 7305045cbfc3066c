"""Progress output for long steps (stderr): a tqdm bar, or plain counters when not a terminal."""
from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator


@contextlib.contextmanager
def bar(total: int, description: str, unit: str, enabled: bool = True) -> Iterator[Callable[[], None]]:
    """Yields a `tick()` to call once per item."""
    if not enabled:
        yield lambda: None
        return
    from tqdm import tqdm

    with tqdm(total=total or None, desc=description, unit=unit, file=sys.stderr, mininterval=0.5,
              disable=False, dynamic_ncols=True, ascii=not sys.stderr.isatty()) as progress:
        yield lambda: progress.update(1)


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def __str__(self) -> str:
        seconds = int(self.elapsed())
        return f"{seconds // 60:02d}:{seconds % 60:02d}"
