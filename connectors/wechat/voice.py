"""Replies to a WeChat voice message, written for the ear like a phone turn (issue 28).

Who sends a voice message is usually not looking at the screen (driving, cooking, a screen reader): the
dialogue answers with the voice form (``actions.common.reads_aloud``), and the reply is the same spoken text
the phone channels say (``credit.text.speech``: figures in words, no brackets, 「」 or APP paths), with the
keys to reply ("想听提前还款怎么算利息，请回复1或直接说").  A spoken answer to that menu ("一", "安家分期")
counts like the digit (:func:`connectors.voice.pages.spoken_choice`).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from connectors.render import WeChatRendering, assign_digits, handoff_of, pack_texts
from connectors.voice.pages import spoken_choice
from credit.text.speech import to_speech
from credit.voice.menu import REPLY, menu_prompt


def _buttons(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


def render_wechat_voice(messages: Iterable[Dict[str, Any]]) -> tuple[WeChatRendering, Dict[str, List[str]]]:
    """The reply texts (spoken wording, keys as "请回复1") and the cues of the options offered."""
    messages = list(messages)
    rendering = WeChatRendering()
    cues: Dict[str, List[str]] = {}
    texts: List[str] = []
    for message in messages:
        text = to_speech(str(message.get("text") or ""))
        buttons = _buttons(message)
        if buttons:
            options = assign_digits(buttons)
            rendering.menu = {o.digit: o.payload for o in options}
            cues = {o.digit: [*o.cues, o.label] for o in options if o.cues or len(o.label) <= 6}
            text += menu_prompt(((o.digit, o.label, o.say_it) for o in options), REPLY)
        if text:
            texts.append(text)
    rendering.handoff = handoff_of(messages)
    # one message each (a notice, then the answer): each within a turn's budget, never packed together
    rendering.texts = [piece for text in texts for piece in pack_texts([text])]
    return rendering, cues


def voice_choice(text: str, menu: Dict[str, str], cues: Dict[str, List[str]]) -> Optional[str]:
    """The payload a recognised voice answer to the last menu names ("一。", "二号", "安家分期"), if any."""
    key = spoken_choice(text.rstrip("。.！!"), menu, cues)
    return menu[key] if key is not None else None


__all__ = ["render_wechat_voice", "voice_choice"]
