"""Any text reply as spoken points: its sentences grouped into points that fit a turn, said one after the other.

For the answers that have no form of their own (a ticket registered, a cancellation, a reply to a notice):
the text form is cut at sentence boundaries into points of at most :data:`POINT_BUDGET` spoken characters, and
"想接着听" offers the rest.  A point that mentions a charge is marked ``fee``, so its offer says a charge is
still to come.  The reply's buttons become the closing choices (the channel gives them their keys)."""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Mapping

from credit.voice.turns import Choice, Point, VoiceForm, first_turn, spoken_length

POINT_BUDGET = 100
_FEE = re.compile(r"手续费|罚息|违约金|收取|计收|费用(?!都不|全免)")
_UNITS = re.compile(r"[^。！？；\n]+[。！？；]*|\n")


def _sentences(text: str) -> Iterator[str]:
    for unit in _UNITS.findall(text or ""):
        unit = unit.strip()
        if unit:
            yield unit if unit[-1] in "。！？；：:" else unit + "。"


def sentence_points(kind: str, text: str, budget: int = POINT_BUDGET) -> Iterator[Point]:
    """``text`` in points of whole sentences (a heading line "…：" stays with what follows it)."""
    group = ""
    index = 0
    for sentence in _sentences(text):
        if group and not group.endswith(("：", ":")) and spoken_length(group + sentence) > budget:
            yield Point(f"{kind}{index}", "", group, fee=bool(_FEE.search(group)))
            index, group = index + 1, ""
        group += sentence
    if group:
        yield Point(f"{kind}{index}", "", group, fee=bool(_FEE.search(group)))


def closing_of(buttons: Iterable[Mapping[str, Any]]) -> tuple[Choice, ...]:
    return tuple(Choice(str(b.get("title") or ""), str(b.get("payload") or ""), b.get("key"))
                 for b in buttons if isinstance(b, Mapping) and b.get("payload"))


def from_text(kind: str, text: str, buttons: Iterable[Mapping[str, Any]] = (), keep: str = "", lead: str = ""
              ) -> VoiceForm:
    """The voice form of a text reply: its sentences as points (the whole reply when it fits one turn with its
    keys), its buttons as the closing choices."""
    closing = closing_of(buttons)
    whole = (Point(f"{kind}0", "", text, fee=bool(_FEE.search(text))),)
    single = VoiceForm(kind, whole, lead=lead, keep=keep, closing=closing)
    if not first_turn(single).state["rest"]:  # fits one turn as it is
        return single
    points = tuple(sentence_points(kind, text)) or whole
    return VoiceForm(kind, points, lead=lead, keep=keep, closing=closing)


__all__ = ["POINT_BUDGET", "closing_of", "from_text", "sentence_points"]
