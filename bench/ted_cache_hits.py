"""How often the TED prediction cache (nlu_components/cached_ted.py) would hit on real traffic (issue 25).

The latency bench repeats one conversation, so every TED prediction after the first round is a hit: that
says what the cache saves, not how often it saves it.  This replays a tracker store of VARIED conversations
(by default the one `bench/dialogue_bench.py` leaves: the 170 frozen fresh conversations written by an
independent helper) through the loaded policy in the order the turns happened, and counts the prediction
points whose dialogue states were already seen: the cache's hit rate on that traffic, its size (distinct
state sequences), and the share a cold cache of each size would keep.

    .venv/bin/python -m bench.ted_cache_hits --tracker-db /tmp/dlgwork/tracker.db
"""
from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from nlu_components.cached_ted import CachedTEDPolicy
from ops.model_cache import dev_model


def conversations(db: Path) -> Dict[str, List[Event]]:
    """Every sender's events in order, read straight from Rasa's SQL tracker store table."""
    rows = sqlite3.connect(str(db)).execute("SELECT sender_id, data FROM events ORDER BY timestamp, id").fetchall()
    out: Dict[str, List[Event]] = {}
    for sender, data in rows:
        out.setdefault(sender, []).append(Event.from_parameters(json.loads(data)))
    return out


def replay(policy: CachedTEDPolicy, agent: Agent, convs: Dict[str, List[Event]]) -> Dict[str, float]:
    domain = agent.domain
    seen: Dict[str, int] = {}
    points = hits = 0
    for sender, events in convs.items():
        for i, event in enumerate(events):
            if i and isinstance(event, ActionExecuted) and event.action_name != "action_session_start":
                tracker = DialogueStateTracker.from_events(sender, events[:i], domain.slots)
                key = policy.state_key(tracker, domain, None)
                points += 1
                hits += key in seen
                seen[key] = seen.get(key, 0) + 1
    return {"conversations": len(convs), "prediction_points": points, "distinct_state_sequences": len(seen),
            "hit_rate": round(hits / max(1, points), 3)}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracker-db", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    agent = Agent.load(str(args.model or dev_model()))
    nodes = agent.processor.graph_runner._instantiated_nodes  # noqa: SLF001 - the loaded policy object
    policy = next(n._component for n in nodes.values() if isinstance(n._component, CachedTEDPolicy))  # noqa: SLF001
    print(json.dumps(replay(policy, agent, conversations(args.tracker_db)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
