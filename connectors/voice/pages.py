"""A phone turn within the spoken budget, and the caller's short answers to a key menu.

The dialogue writes its answers for the ear within :data:`~credit.voice.turns.SPOKEN_LIMIT` characters
(``credit.voice``), but one turn can carry several messages (a note before the answer, a form's question after
it).  :func:`paginate` is the net under that: when everything together is longer, the first page ends with
"后面还有，接着听请按1或说继续" and the rest is said page by page (the call state keeps it; the dialogue already
has the whole turn).  Nothing is dropped and the key menu of the turn comes with its last page.

:func:`spoken_choice` reads a short spoken answer to the menu just offered: a spoken digit ("一", "按二",
"3") as that key, and a short answer naming one option ("安家分期", "怎么算利息", "发短信") as that option.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Optional, Sequence, Tuple

from credit.voice.turns import SPOKEN_LIMIT

CONTINUE_DIGIT = "1"
CONTINUE_PROMPT = "后面还有，接着听请按一或说继续。"
_CONTINUE = re.compile(r"^(?:请)?(?:继续|接着说|接着听|往下说|然后呢|还有呢|后面呢|好的?|嗯|对|是的?|可以|听|想听)"
                       r"(?:吧|啊|呀|的)?[。！!.]?$")
_SPOKEN_DIGITS = {"一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6",
                  "七": "7", "八": "8", "九": "9", "零": "0"}
_DIGIT = re.compile(r"^(?:我)?(?:按|选|请按|我按|选择)?\s*(?:第)?\s*([0-9一幺二两三四五六七八九零])\s*(?:号|个|键|项)?"
                    r"(?:吧|啊|的)?[。！!.]?$")
_FILLER = re.compile(r"[，。！？,.!?\s]|^(?:我)?(?:想听|想问|要|说说|讲讲|请问)|(?:吧|呢|啊|呀|的)$")
_SENTENCE = re.compile(r"[^。！？]+[。！？]*")
MAX_CHOICE_CHARS = 16


def _pieces(prompts: Sequence[str], room: int) -> List[str]:
    """Whole sentences, a sentence longer than ``room`` cut at its commas (or, failing that, at ``room``)."""
    out: List[str] = []
    for sentence in (s for p in prompts for s in _SENTENCE.findall(p)):
        while len(sentence) > room:
            cut = sentence.rfind("，", 0, room) + 1 or room
            out.append(sentence[:cut])
            sentence = sentence[cut:]
        if sentence:
            out.append(sentence)
    return out


def paginate(prompts: Sequence[str], limit: int = SPOKEN_LIMIT) -> Tuple[List[str], List[str]]:
    """``(prompts to say now, later pages)``: the prompts unchanged when they fit together, else whole
    sentences up to the budget ending with :data:`CONTINUE_PROMPT`, the rest in pages of the same size
    (the last one without it)."""
    if sum(len(p) for p in prompts) <= limit:
        return list(prompts), []
    room = limit - len(CONTINUE_PROMPT)
    pages: List[str] = [""]
    for piece in _pieces(prompts, room):
        if pages[-1] and len(pages[-1] + piece) > room:
            pages.append("")
        pages[-1] += piece
    if len(pages) > 2 and len(pages[-2] + pages[-1]) <= limit:  # the last page needs no "接着听"
        pages[-2:] = [pages[-2] + pages[-1]]
    said = [page + CONTINUE_PROMPT for page in pages[:-1]] + [pages[-1]]
    return [said[0]], said[1:]


def wants_more(text: str) -> bool:
    """"继续" / "好的" / "接着说": the next page, please."""
    return bool(_CONTINUE.match(unicodedata.normalize("NFKC", text or "").strip()))


def _names(bare: str, words: str) -> bool:
    """A short answer that is about these words: it says them with little else, or is a part of them."""
    return bool(words) and ((words in bare and len(bare) <= len(words) + 4) or (len(bare) >= 2 and bare in words))


def spoken_choice(text: str, menu: Dict[str, str], cues: Dict[str, List[str]]) -> Optional[str]:
    """The key of the menu option a short spoken answer names (a digit or one option's words), else None."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not menu or not text or len(text) > MAX_CHOICE_CHARS:
        return None
    digit = _DIGIT.match(text)
    if digit:
        key = _SPOKEN_DIGITS.get(digit.group(1), digit.group(1))
        return key if key in menu else None
    bare = _FILLER.sub("", text)
    if not bare:
        return None
    named = [d for d, words in cues.items() if d in menu and any(_names(bare, w) for w in words)]
    return named[0] if len(named) == 1 else None


__all__ = ["CONTINUE_DIGIT", "CONTINUE_PROMPT", "paginate", "spoken_choice", "wants_more"]
