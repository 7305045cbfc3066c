"""The one wording of a spoken key menu, shared by the voice forms (which measure it) and the channels
(which say it): ``"想听提前还款怎么算利息，请按1或直接说。"``, ``"随心借请按1，安家分期请按2。"``.

An option is ``(digit, title, say_it)``; ``say_it`` adds "或直接说" (the caller may also say the topic).  On a
WeChat voice message the verb is "请回复" instead of "请按".
"""
from __future__ import annotations

from typing import Iterable, Tuple

Option = Tuple[str, str, bool]

PRESS = "请按"
REPLY = "请回复"


def _sorted(options: Iterable[Option]) -> list[Option]:
    return sorted(options, key=lambda o: (o[0] == "0", o[0]))


def menu_prompt(options: Iterable[Option], verb: str = PRESS) -> str:
    """The spoken menu: plain options as "X请按1，Y请按2。", an option the caller may also say as
    "X，请按1或直接说。" (a sentence of its own, first)."""
    options = _sorted(options)
    said = [f"{title}{'' if title.endswith('想听') else '，'}{verb}{digit}或直接说。"
            for digit, title, say_it in options if say_it]
    plain = [f"{title}{verb}{digit}" for digit, title, say_it in options if not say_it]
    return "".join(said) + ("，".join(plain) + "。" if plain else "")


__all__ = ["Option", "PRESS", "REPLY", "menu_prompt"]
