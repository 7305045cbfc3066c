"""Short load test on the shared assistant: 50 concurrent conversations of realistic
multi-turn flows (forms, validation actions, identity checks and loan-database lookups,
rate calculations, a complaint, a question inside a form), loopback only, bounded in time.
Zero errors, and every turn is in the tracker store afterwards.

The long version is `bench/load.py` (500+ conversations).
"""
from __future__ import annotations

import asyncio
import os

import pytest

from bench.load import missing_turns, report, run_load

pytestmark = pytest.mark.slow

CONVERSATIONS = int(os.environ.get("LOAD_CONVERSATIONS", "50"))
CONCURRENCY = int(os.environ.get("LOAD_CONCURRENCY", "50"))


def test_fifty_concurrent_conversations_without_errors_or_lost_turns(stack) -> None:
    result = asyncio.run(run_load(stack.rasa_url, CONVERSATIONS, CONCURRENCY, max_seconds=420, prefix="lt"))
    missing = missing_turns(f"sqlite:///{stack.workdir / 'tracker.db'}", result)
    summary = report(result, missing)
    print(summary)
    assert len(result.turns) >= CONVERSATIONS * 3
    assert not result.errors, summary["first_errors"]
    assert not missing, summary["first_missing"]
    assert len({t.flow for t in result.turns}) >= 3  # the mix really ran
