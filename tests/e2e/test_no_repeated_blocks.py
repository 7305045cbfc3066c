"""Over the story conversations (tests/stories/*.yml), replayed through REST: no answer block is
sent twice in one conversation word for word.  Domain responses are exempt: verification failures
must stay identical for safety, and form re-prompts and menus are allowed to recur."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MIN_BLOCK_CHARS = 40


def _story_turns() -> List[tuple]:
    out = []
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for story in yaml.safe_load(path.read_text("utf-8")).get("stories", []):
            turns = [str(s["user"]).strip() for s in story.get("steps", []) if "user" in s]
            if len(turns) >= 2:
                out.append((f"{path.stem}: {story['story']}", turns))
    return out


def _domain_texts() -> set:
    data = yaml.safe_load((ROOT / "domain" / "responses.yml").read_text("utf-8"))
    return {v["text"].strip() for variants in data["responses"].values() for v in variants if "text" in v}


STORIES = _story_turns()


@pytest.mark.parametrize("name, turns", STORIES, ids=[s[0] for s in STORIES])
def test_no_answer_block_is_sent_twice(stack, sender, name, turns):
    exempt = _domain_texts()
    sent: List[str] = []
    for text in turns:
        for message in stack.rest(sender, text):
            block = (message.get("text") or "").strip()
            if len(block) >= MIN_BLOCK_CHARS and block not in exempt:
                assert block not in sent, f"{name}: repeated after {text!r}:\n{block}"
                sent.append(block)
