"""Never the same answer block twice in one conversation.

A second answer on a topic already answered gives what is new and leaves out what the customer
has just read: lines already sent word for word are dropped (the rate and fraud notices stay,
they go with every rate and every fraud warning); when nothing new is left, one short line says
so, varied, and invites the next step.  Replies that must stay identical for safety (verification
failures) and form re-prompts are domain responses, which never pass through here.
"""
from __future__ import annotations

import hashlib
import re
from typing import Iterable, Optional

from credit.compliance import FRAUD_WARNING, RATE_DISCLAIMER, RATE_DISCLAIMER_VOICE

ALWAYS_KEPT = frozenset({RATE_DISCLAIMER, RATE_DISCLAIMER_VOICE, FRAUD_WARNING})
MIN_REPEAT_CHARS = 20  # shorter lines ("需要准备：", a question) may recur
ALREADY_SAID = (
    "这些要点刚才已经给您列过了，就在上面。您想具体了解哪一点，我再展开说。",
    "刚才的说明仍然适用，我就不重复了。哪一点还不清楚，您直接问我。",
    "上面已经为您说明过了。如果告诉我您的金额、期数或具体情况，我可以按您的情况再细说。",
)


RECAP_LEAD = "再把要点说一下："
_QUESTION = re.compile(r"[?？吗么]|多少|怎么|什么|哪|几|到底|不$|没$|要不要|会不会|是不是|有没有|算不算|还要")


def recap(text: str, asked: str) -> Optional[str]:
    """The same question asked again ("热线到底多少？"): its first key points, briefly, not the whole block again.
    None when the customer's words are not a question (then the short "already said" line stands)."""
    if not _QUESTION.search(asked or ""):
        return None
    lines = _lines(text)
    points = [ln for ln in lines if ln not in ALWAYS_KEPT and not ln.endswith(("：", ":")) and len(ln) >= 12]
    if not points:
        return None
    out = [RECAP_LEAD]
    for i in _key_points(points, asked):
        heading = _heading_of(lines, points[i])
        if heading and heading not in out:  # "有3天宽限期：" scopes the items under it ("不收罚息" within it)
            out.append(heading)
        out.append(points[i])
    return "\n".join(out)


def _heading_of(lines: list[str], point: str) -> Optional[str]:
    """The heading line ("…：") a list item sits under, if any."""
    if not _is_item(point):
        return None
    for line in reversed(lines[:lines.index(point)]):
        if line.endswith(("：", ":")):
            return line
        if not _is_item(line):
            return None
    return None


RECAP_POINTS = 3


def _bigrams(text: str) -> set[str]:
    han = re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", text)
    return {han[i:i + 2] for i in range(len(han) - 1)}


def _key_points(points: list[str], asked: str) -> list[int]:
    """Indexes, in the answer's order, of up to RECAP_POINTS points: first those sharing a word with the question
    that not every point shares ("热线" picks the hotline line; "逾期" in every overdue rule picks nothing), then the
    leading points, which each answer puts first because they matter most."""
    grams = [_bigrams(p) for p in points]
    common = set.intersection(*grams) if grams else set()
    wanted = _bigrams(asked) - common
    # the points sharing most of the question's words first ("额度冻结了" picks the 冻结 point before the 额度 ones)
    matched = sorted((i for i, g in enumerate(grams) if g & wanted), key=lambda i: -len(grams[i] & wanted))
    chosen = matched[:RECAP_POINTS]
    chosen += [i for i in range(len(points)) if i not in chosen][:RECAP_POINTS - len(chosen)]
    return sorted(chosen)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


_ITEM = ("·", "-", "•")


def _is_item(line: str) -> bool:
    return line.startswith(_ITEM) or (line[:1].isdigit() and line[1:3].startswith((".", "、")))


def _repeated(lines: list[str], seen: set[str]) -> set[int]:
    """Indexes of lines already sent; a new heading ("按您借1万元…计算：") keeps its items with it,
    since the items mean something else under it."""
    out, under_new_heading = set(), False
    for i, line in enumerate(lines):
        if _is_item(line) and under_new_heading:
            continue
        under_new_heading = line.endswith(("：", ":")) and line not in seen
        if line in seen and len(line) >= MIN_REPEAT_CHARS and line not in ALWAYS_KEPT:
            out.add(i)
    return out


def without_repeats(text: str, earlier: Iterable[str]) -> Optional[str]:
    """``text`` minus what was already sent; None when nothing of it was sent before."""
    earlier = [e for e in earlier if e]
    if not earlier or not text:
        return None
    seen = {line for e in earlier for line in _lines(e)}
    lines = _lines(text)
    repeated = _repeated(lines, seen)
    if not repeated:
        return None
    kept = [ln for i, ln in enumerate(lines) if i not in repeated]
    substantive = [ln for ln in kept if ln not in ALWAYS_KEPT and not ln.endswith(("：", ":")) and len(ln) >= 12]
    if not substantive:
        pick = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % len(ALREADY_SAID)
        already = [s for s in ALREADY_SAID if s not in seen] or list(ALREADY_SAID)
        return "\n".join([already[pick % len(already)], *[ln for ln in kept if ln in ALWAYS_KEPT]])
    return "\n".join(kept)
