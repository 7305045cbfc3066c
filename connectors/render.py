"""One dialogue, replies shaped per channel.

The dialogue sends channel-neutral messages (Rasa's bot message dicts): ``text``,
``buttons`` (``{"title": "查询进度", "payload": "/check_progress"}``) and ``custom``
payloads (``{"type": "handoff", "queue": ..., "summary": ...}``, ``{"type": "end_call"}``).
This module turns them into

* WeChat: plain text, buttons as numbered options (the customer replies with the digit),
  split into pieces of at most 2048 UTF-8 bytes;
* voice (Twilio and the JSON IVR): spoken text (``to_speech``) and a DTMF menu.

Buttons get the same digits on every channel: a button may name its own digit (``"key": "1"``);
otherwise the five entries of the main menu keep their fixed keys (1 rates, 2 progress,
3 repayment, 4 complaint, 0 agent) and other buttons take the free digits 1-9 in order.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Sequence

from credit.text.speech import to_speech
from credit.voice.menu import PRESS, menu_prompt

__all__ = [
    "MAIN_MENU",
    "MenuOption",
    "Handoff",
    "WeChatRendering",
    "VoiceRendering",
    "to_speech",
    "assign_digits",
    "main_menu_options",
    "numbered_options_text",
    "dtmf_menu_prompt",
    "split_utf8",
    "pack_texts",
    "render_wechat",
    "render_voice",
    "handoff_of",
    "ends_call",
    "button_payload",
]

WECHAT_TEXT_LIMIT_BYTES = 2048
GOODBYE_RESPONSES = frozenset({"utter_goodbye"})


@dataclass(frozen=True)
class MenuOption:
    digit: str
    label: str
    payload: str
    say_it: bool = False  # "想听…，请按1或直接说" (credit/voice/menu.py)
    cues: tuple[str, ...] = ()  # short speech that names this option


# The one DTMF / numbered main menu shared by all channels.
MAIN_MENU: Sequence[MenuOption] = (
    MenuOption("1", "利率与费用", "/ask_interest_rate"),
    MenuOption("2", "申请进度", "/check_progress"),
    MenuOption("3", "还款问题", "/ask_repayment"),
    MenuOption("4", "投诉与建议", "/complain"),
    MenuOption("0", "人工客服", "/request_human"),
)
_MAIN_BY_INTENT = {option.payload: option for option in MAIN_MENU}


@dataclass(frozen=True)
class Handoff:
    queue: str = "general"
    summary: str = ""


@dataclass
class WeChatRendering:
    texts: List[str] = field(default_factory=list)  # each at most 2048 UTF-8 bytes
    menu: Dict[str, str] = field(default_factory=dict)  # digit -> payload of the latest buttons
    handoff: Handoff | None = None


@dataclass
class VoiceRendering:
    prompts: List[str] = field(default_factory=list)  # spoken text, one per bot message
    menu: Dict[str, str] = field(default_factory=dict)  # digit -> payload of the latest buttons
    menu_prompt: str = ""  # "查询进度请按2，..." (already part of prompts)
    cues: Dict[str, List[str]] = field(default_factory=dict)  # digit -> short speech naming that option
    handoff: Handoff | None = None
    end_call: bool = False


def button_payload(button: Dict[str, Any]) -> str:
    payload = button.get("payload")
    if payload is None:
        payload = button.get("title", "")
    return str(payload)


def _intent_part(payload: str) -> str:
    match = re.match(r"^(/[A-Za-z0-9_]+)", payload)
    return match.group(1) if match else payload


def _explicit_key(button: Dict[str, Any]) -> str | None:
    key = button.get("key")
    key = str(key).strip() if isinstance(key, (str, int)) and not isinstance(key, bool) else ""
    return key if len(key) == 1 and key in "0123456789" else None


def assign_digits(buttons: Iterable[Dict[str, Any]]) -> List[MenuOption]:
    """Digits for buttons: a button's own ``"key"`` digit first (``{"title": "听还款方式", "payload":
    "/ask_repayment", "key": "1"}``), then main-menu intents keep their key, the rest take free digits 1-9.
    A key already taken (twice the same explicit key, or a main-menu key) falls to the next rule."""
    buttons = [b for b in buttons if isinstance(b, dict)]
    used = set()
    fixed: Dict[int, MenuOption] = {}

    def option(index: int, digit: str, label: str) -> MenuOption:
        button = buttons[index]
        cues = button.get("cues")
        cues = tuple(str(c) for c in cues if isinstance(c, str) and c) if isinstance(cues, list) else ()
        return MenuOption(digit, label, button_payload(button), button.get("say_it") is True, cues)

    def take(index: int, digit: str, label: str) -> None:
        used.add(digit)
        fixed[index] = option(index, digit, label)

    for index, button in enumerate(buttons):
        key = _explicit_key(button)
        if key is not None and key not in used:
            take(index, key, str(button.get("title") or ""))
    for index, button in enumerate(buttons):
        main = _MAIN_BY_INTENT.get(_intent_part(button_payload(button)))
        if index not in fixed and main and main.digit not in used:
            take(index, main.digit, str(button.get("title") or main.label))
    free = [d for d in "123456789" if d not in used]
    options = []
    for index, button in enumerate(buttons):
        if index in fixed:
            options.append(fixed[index])
        elif free:
            options.append(option(index, free.pop(0), str(button.get("title") or "")))
    return options


def main_menu_options() -> List[MenuOption]:
    return list(MAIN_MENU)


def _sorted(options: Iterable[MenuOption]) -> List[MenuOption]:
    return sorted(options, key=lambda o: (o.digit == "0", o.digit))


def numbered_options_text(options: Iterable[MenuOption]) -> str:
    lines = [f"【{o.digit}】{o.label}" for o in _sorted(options)]
    return "回复数字即可选择：\n" + "\n".join(lines) if lines else ""


def dtmf_menu_prompt(options: Iterable[MenuOption], verb: str = PRESS) -> str:
    """The spoken key menu, in the one wording the voice forms measure (credit/voice/menu.py)."""
    return menu_prompt(((o.digit, o.label, o.say_it) for o in options), verb)


# --- splitting ----------------------------------------------------------------------
_BREAKS = ("\n\n", "\n", "。", "！", "？", "；", "，", " ")


def split_utf8(text: str, limit: int = WECHAT_TEXT_LIMIT_BYTES) -> List[str]:
    """Split into pieces of at most ``limit`` UTF-8 bytes, preferring paragraph, line and
    sentence boundaries, never cutting a character in half."""
    if limit < 4:
        raise ValueError("limit must be at least 4 bytes")
    pieces: List[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        # longest prefix within the byte limit
        cut = len(rest.encode("utf-8")[:limit].decode("utf-8", errors="ignore"))
        window = rest[:cut]
        best = -1
        for mark in _BREAKS:
            pos = window.rfind(mark)
            if pos > cut // 3:
                best = pos + len(mark)
                break
        if best <= 0:
            best = cut
        piece, rest = rest[:best].rstrip(), rest[best:].lstrip()
        if piece:
            pieces.append(piece)
    if rest.strip():
        pieces.append(rest.strip() if rest.strip() else rest)
    return pieces


def pack_texts(texts: Iterable[str], limit: int = WECHAT_TEXT_LIMIT_BYTES) -> List[str]:
    """Join consecutive messages (blank line between) while they fit in one piece."""
    packed: List[str] = []
    for text in texts:
        for piece in split_utf8(text, limit):
            if packed and len((packed[-1] + "\n\n" + piece).encode("utf-8")) <= limit:
                packed[-1] = packed[-1] + "\n\n" + piece
            else:
                packed.append(piece)
    return packed


# --- message inspection -------------------------------------------------------------
def _custom(message: Dict[str, Any]) -> Dict[str, Any] | None:
    custom = message.get("custom")
    if isinstance(custom, str):
        try:
            custom = json.loads(custom)
        except ValueError:
            return None
    return custom if isinstance(custom, dict) else None


def handoff_of(messages: Iterable[Dict[str, Any]]) -> Handoff | None:
    for message in messages:
        custom = _custom(message)
        if custom and custom.get("type") == "handoff":
            return Handoff(str(custom.get("queue") or "general"), str(custom.get("summary") or ""))
    return None


def ends_call(messages: Iterable[Dict[str, Any]]) -> bool:
    for message in messages:
        custom = _custom(message)
        if custom and custom.get("type") == "end_call":
            return True
        if message.get("utter_action") in GOODBYE_RESPONSES:
            return True
    return False


def _buttons(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


# --- channels -----------------------------------------------------------------------
def render_wechat(
    messages: Iterable[Dict[str, Any]],
    limit: int = WECHAT_TEXT_LIMIT_BYTES,
    fallback_menu: Sequence[MenuOption] | None = None,
) -> WeChatRendering:
    """Texts for WeChat; ``fallback_menu`` is appended when no message had buttons."""
    rendering = WeChatRendering()
    texts: List[str] = []
    for message in messages:
        text = str(message.get("text") or "").strip()
        buttons = _buttons(message)
        if buttons:
            options = assign_digits(buttons)
            rendering.menu = {o.digit: o.payload for o in options}
            text = (text + "\n\n" if text else "") + numbered_options_text(options)
        if message.get("image"):
            text = (text + "\n" if text else "") + str(message["image"])
        if text:
            texts.append(text)
        handoff = handoff_of([message])
        if handoff:
            rendering.handoff = handoff
    if fallback_menu and not rendering.menu:
        rendering.menu = {o.digit: o.payload for o in fallback_menu}
        texts.append(numbered_options_text(fallback_menu))
    rendering.texts = pack_texts(texts, limit)
    return rendering


def render_voice(messages: Iterable[Dict[str, Any]]) -> VoiceRendering:
    rendering = VoiceRendering()
    messages = list(messages)
    for message in messages:
        spoken = to_speech(str(message.get("text") or ""))
        buttons = _buttons(message)
        if buttons:
            options = assign_digits(buttons)
            rendering.menu = {o.digit: o.payload for o in options}
            rendering.cues = {o.digit: [*o.cues, o.label] for o in options if o.cues or len(o.label) <= 6}
            rendering.menu_prompt = to_speech(dtmf_menu_prompt(options))
            spoken = "".join(p for p in (spoken, rendering.menu_prompt) if p)
        if spoken:
            rendering.prompts.append(spoken)
    rendering.handoff = handoff_of(messages)
    rendering.end_call = ends_call(messages)
    return rendering
