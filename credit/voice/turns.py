"""Points, voice forms and the turns a caller hears.

A :class:`VoiceForm` is an answer kind cut into :class:`Point` s (each one thing: the fee, how interest is
counted, how to apply), the text said with every turn (``keep``: the rate disclaimer), what may be offered
once every point is heard (``closing``: the text form's own offer) and whether the full text form may be sent
by SMS.  :func:`first_turn` says the point that answers the question (the one whose cue words the question
uses; else the first not yet heard), then offers the next; :func:`next_turn` serves the next from the
turn's state.  The state travels with the bot message (a ``custom`` payload of type :data:`MENU_TYPE`), so
"按1" always means what the caller just heard.

Budget: the spoken text (after the ear gate ``credit.text.speech.to_speech``) plus the spoken key menu is at
most :data:`SPOKEN_LIMIT` characters.  What does not fit is never dropped: the SMS offer goes first, then the
point is cut at a sentence and the rest becomes the next point.  A charge is never left unsaid: every point
marked ``fee`` that this turn does not say is named in its offer ("还有两项费用：提前还款手续费和逾期罚息，
想听请按1或直接说").
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from credit.compliance import check_text
from credit.text.speech import to_speech
from credit.voice.menu import menu_prompt

SPOKEN_LIMIT = 150
MENU_TYPE = "voice_menu"
NEXT_KEY, SMS_KEY = "1", "2"
NEXT_PAYLOAD = "/affirm"
SMS_PAYLOAD = "/request_sms_details"
SMS_TITLE = "规则发短信给您"
SMS_CUES = ("短信", "发给我", "发我")
#: what a TTS engine reads badly: none of it may be left in a spoken turn
TTS_HOSTILE = re.compile(r"[()（）「」『』〔〕\[\]【】÷×%％/／\\]|(?<![A-Za-z])(?:APP|App|app)(?![A-Za-z])")
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；\n]*")
_CLAUSE = re.compile(r"[^，、：]+[，、：]*")
_COUNT = {2: "两", 3: "三", 4: "四", 5: "五"}
_RATE_FIGURE = re.compile(r"(?=.*\d)(?=.*(?:利率|利息|年化|每月|月供))", re.S)


def spoken(text: str) -> str:
    return to_speech(text)


def spoken_length(text: str) -> int:
    return len(to_speech(text))


@dataclass(frozen=True)
class Point:
    key: str
    topic: str  # what an offer calls it: "提前还款怎么算利息" ("" for the rest of a point cut in two)
    text: str
    cues: Tuple[str, ...] = ()  # words in a question that ask for this point
    fee: bool = False  # a charge: never left unsaid
    needs_product: bool = False  # differs by product: asked for when nobody named one


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str
    key: Optional[str] = None  # None: the channel gives it a free digit
    say_it: bool = False  # "…，请按1或直接说"
    cues: Tuple[str, ...] = ()  # short speech naming this option (the channel matches it)

    def button(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"title": self.title, "payload": self.payload}
        if self.key is not None:
            out["key"] = self.key
        if self.say_it:
            out["say_it"] = True
        if self.cues:
            out["cues"] = list(self.cues)
        return out


@dataclass(frozen=True)
class Ask:
    """What a voice form is built from besides the catalogue: the caller's words and figures, the product in
    context (a code or a name), and a lead-in (the "we are not 借呗" note)."""

    question: str = ""
    product: Optional[str] = None
    amount: Optional[int] = None
    term: Optional[int] = None
    lead: str = ""

    def as_args(self) -> Dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") and k != "lead"}


@dataclass(frozen=True)
class VoiceForm:
    kind: str
    points: Tuple[Point, ...]
    lead: str = ""  # before the first point only (empathy, "we are not 借呗")
    keep: str = ""  # with every turn that gives a rate figure (the short rate disclaimer)
    closing: Tuple[Choice, ...] = ()  # once every point is heard
    sms: bool = False  # the full text form may go by SMS
    product: Optional[str] = None  # the product in context (code)
    product_question: str = ""  # when a point needs a product nobody named
    product_choices: Tuple[Choice, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)  # what rebuilds it (credit.voice.kinds)


@dataclass
class Turn:
    text: str
    buttons: List[Dict[str, Any]]
    state: Dict[str, Any]
    point: Optional[str] = None  # the key of the point said

    def spoken(self) -> str:
        """Everything the caller hears in this turn, key menu included."""
        return spoken(self.text) + spoken(self.menu())

    def menu(self) -> str:
        return menu_prompt((b.get("key") or "1", str(b["title"]), bool(b.get("say_it"))) for b in self.buttons)


def product_choice(code: str, name: str, digit: str) -> Choice:
    return Choice(name, "/affirm" + json.dumps({"product": code}, ensure_ascii=False, separators=(",", ":")),
                  digit, cues=(name,))


# --------------------------------------------------------------------- choosing

def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _score(point: Point, question: str) -> int:
    return sum(len(cue) for cue in point.cues if cue and cue in question)


def pick(points: Sequence[Point], question: str = "", heard: Sequence[str] = (), focus: Optional[str] = None) -> Point:
    """The point that answers: ``focus`` if given, else the one the question's words ask for, else the first
    not heard yet, else the first."""
    if focus:
        for p in points:
            if p.key == focus:
                return p
    q = _normal(question)
    best = max(points, key=lambda p: (_score(p, q), -points.index(p)))
    if _score(best, q) > 0:
        return best
    return next((p for p in points if p.key not in heard), points[0])


def _ordered_rest(points: Sequence[Point], said: Point, heard: Sequence[str]) -> List[Point]:
    rest = [p for p in points if p.key != said.key and p.key not in heard]
    return [p for p in rest if p.fee] + [p for p in rest if not p.fee]  # charges first: said, or named


# --------------------------------------------------------------------- composing

def _offer(rest: Sequence[Point], plain: bool = False) -> Choice:
    """Key 1 for the next point; every charge still to come is named in it.  ``plain``: without the topics'
    words (a rate word right after a fee's percentage would read as that rate: credit/compliance.py rule 2)."""
    fees = [p for p in rest if p.fee]
    named = [p.topic for p in fees if p.topic]
    if not rest[0].topic or plain:  # the rest of a point cut in two, of a text reply, or said plainly
        if len(fees) >= 2:
            head = f"后面还有{_COUNT.get(len(fees), str(len(fees)))}项费用要说明"
        else:
            head = "后面还有费用要说明" if fees else ("还没说完" if not rest[0].topic else "后面还有")
        cues = ("接着", "继续", "后面", "还有呢", *rest[0].cues)
        return Choice(head + "，想接着听", NEXT_PAYLOAD, NEXT_KEY, True, cues)
    if len(named) >= 2:
        names = "、".join(named[:-1]) + "和" + named[-1]
        return Choice(f"还有{_COUNT.get(len(named), str(len(named)))}项费用：{names}，想听", NEXT_PAYLOAD, NEXT_KEY,
                      True, rest[0].cues)
    title = f"想听{rest[0].topic}"
    if fees and fees[0] is not rest[0]:
        title = f"还有{fees[0].topic or '费用'}要说明。" + title
    return Choice(title, NEXT_PAYLOAD, NEXT_KEY, True, rest[0].cues)


def _misread(text: str, rest: Sequence[Point]) -> bool:
    """Whether naming the next topics after ``text`` would put a rate word next to a fee's percentage."""
    return bool(rest) and bool(check_text(spoken(text) + spoken(menu_prompt([("1", _offer(rest).title, True)]))))


def _fits(text: str, choices: Sequence[Choice]) -> bool:
    return Turn(text, [c.button() for c in choices], {}).spoken().__len__() <= SPOKEN_LIMIT


def _cut(text: str, room: int) -> Tuple[str, str]:
    """The longest head of ``text`` (whole sentences, else whole clauses) within ``room`` spoken characters."""
    for unit in (_SENTENCE, _CLAUSE):
        parts = unit.findall(text)
        head = ""
        for i, part in enumerate(parts):
            if spoken_length(head + part) > room:
                if head:
                    return head.rstrip("，、："), "".join(parts[i:])
                break
            head += part
    # one clause longer than the whole budget: cut by characters (never reached by the catalogue's texts)
    size = max(1, room // 2)
    return text[:size], text[size:]


def _asks_product_next(form: VoiceForm, rest: Sequence[Point]) -> bool:
    """The next point needs the product nobody named, and no other charge waits behind it: ask right away."""
    return (bool(rest) and rest[0].needs_product and form.product is None and bool(form.product_choices)
            and not any(p.fee for p in rest[1:]))


def _later_fees(rest: Sequence[Point]) -> str:
    fees = [p.topic for p in rest if p.fee]
    return f"选好以后我再说{'和'.join(fees)}。" if fees else ""


def _keep(form: VoiceForm, point: Point) -> str:
    """The form's notice when this point gives a rate figure (a rate, interest, a monthly payment)."""
    return form.keep if form.keep and _RATE_FIGURE.match(point.text) else ""


def _compose(form: VoiceForm, point: Point, rest: List[Point], lead: str) -> Tuple[str, List[Choice], List[Point]]:
    sms = [Choice(SMS_TITLE, SMS_PAYLOAD, SMS_KEY, cues=SMS_CUES)] if form.sms else []
    keep = _keep(form, point)
    if _asks_product_next(form, rest):
        text = lead + point.text + keep + form.product_question
        if _fits(text, form.product_choices):
            return text, list(form.product_choices), rest
    for extra in (sms, []):
        options = ([_offer(rest, _misread(lead + point.text + keep, rest))] if rest else list(form.closing)) + extra
        text = lead + point.text + keep
        if _fits(text, options):
            return text, options, rest
    # too long even without the SMS offer: the point is cut at a sentence, its rest said next
    options = [_offer([Point(point.key + "+", "", "", fee=point.fee), *rest])]
    room = SPOKEN_LIMIT - len(Turn("", [c.button() for c in options], {}).spoken()) - spoken_length(lead + keep)
    head, tail = _cut(point.text, max(20, room))
    return lead + head + keep, options, [replace(point, key=point.key + "+", topic="", text=tail), *rest]


def _state(form: VoiceForm, rest: Sequence[Point], heard: Sequence[str], ask: Optional[str] = None,
           focus: Optional[str] = None) -> Dict[str, Any]:
    return _plain({"type": MENU_TYPE, "kind": form.kind, "product": form.product, "keep": form.keep, "sms": form.sms,
            "rest": [asdict(p) for p in rest], "closing": [asdict(c) for c in form.closing],
            "product_question": form.product_question,
            "product_choices": [asdict(c) for c in form.product_choices] if form.product is None else [],
            "heard": list(dict.fromkeys(heard)), "args": dict(form.args), "ask": ask, "focus": focus})


def _plain(state: Dict[str, Any]) -> Dict[str, Any]:
    """The state as the tracker stores it (JSON: tuples become lists)."""
    return json.loads(json.dumps(state, ensure_ascii=False))


def _product_question(form: VoiceForm, point: Point, rest: Sequence[Point], heard: Sequence[str], lead: str
                      ) -> Turn:
    text = lead + (form.product_question or "这一点每款产品不一样，请问您问的是哪款？") + _later_fees(rest)
    return Turn(text, [c.button() for c in form.product_choices], _state(form, (), heard, "product", point.key),
                point=None)


def _say(form: VoiceForm, point: Point, rest: List[Point], heard: Sequence[str], lead: str) -> Turn:
    if point.needs_product and form.product is None and form.product_choices:
        return _product_question(form, point, rest, heard, lead)
    text, options, rest = _compose(form, point, rest, lead)
    said = [*heard, point.key]
    asks = _asks_product_next(form, rest) and options == list(form.product_choices)
    state = _state(form, rest, said, "product", rest[0].key) if asks else _state(form, rest, said)
    return Turn(text, [c.button() for c in options], state, point=point.key)


def first_turn(form: VoiceForm, question: str = "", heard: Sequence[str] = (), focus: Optional[str] = None) -> Turn:
    """The point that answers ``question`` (or ``focus``), then the offer of the next."""
    point = pick(form.points, question, heard, focus)
    return _say(form, point, _ordered_rest(form.points, point, heard), heard, form.lead)


def next_turn(state: Mapping[str, Any]) -> Optional[Turn]:
    """The next point of a turn's state, or None when none is left."""
    rest = [Point(**{**p, "cues": tuple(p.get("cues") or ())}) for p in state.get("rest") or []]
    if not rest:
        return None
    form = VoiceForm(str(state.get("kind") or "answer"), tuple(rest), keep=str(state.get("keep") or ""),
                     closing=_choices(state.get("closing")), sms=bool(state.get("sms")), product=state.get("product"),
                     product_question=str(state.get("product_question") or ""),
                     product_choices=_choices(state.get("product_choices")), args=dict(state.get("args") or {}))
    return _say(form, rest[0], rest[1:], list(state.get("heard") or []), "")


def _choices(raw: Any) -> Tuple[Choice, ...]:
    return tuple(Choice(**{**c, "cues": tuple(c.get("cues") or ())}) for c in raw or [] if isinstance(c, dict))


def pending(state: Optional[Mapping[str, Any]]) -> bool:
    """Whether a turn's state still has points to serve (or asks for a product)."""
    return bool(state) and state.get("type") == MENU_TYPE and bool(state.get("rest") or state.get("ask"))


__all__ = ["Ask", "Choice", "MENU_TYPE", "NEXT_KEY", "NEXT_PAYLOAD", "Point", "SMS_KEY", "SMS_PAYLOAD", "SMS_TITLE",
           "SPOKEN_LIMIT", "TTS_HOSTILE", "Turn", "VoiceForm", "first_turn", "next_turn", "pending", "pick",
           "product_choice", "spoken", "spoken_length"]
