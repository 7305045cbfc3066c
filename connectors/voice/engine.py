"""Call logic shared by the telephone channels (Twilio ``twilio_zh`` and the JSON ``ivr``).

Protocol-free: an event (call start, speech with ASR confidence, DTMF digits, no input,
hang-up) and the call's state go in; out comes either the text for one dialogue turn or
a channel-level answer (reprompt, confirmation, transfer).  After the dialogue turn,
``after_turn`` shapes the bot's messages into a ``VoiceTurn``: prompts, the next input
to collect and the action (continue, transfer, hang up).

* One DTMF main menu (``connectors.render.MAIN_MENU``): 1 rates, 2 progress,
  3 repayment, 4 complaint, 0 agent; buttons of the latest bot message get the same
  digits (``assign_digits``).
* Digits keyed while the dialogue asks for a number are text for the form: 12 digits
  become ``SQ`` + digits (application number), ``*`` is the ``X`` of an ID number.
* Speech recognised with low confidence is read back for confirmation first.
* No input: two reprompts, then a transfer to an agent.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Tuple

from connectors.render import MAIN_MENU, VoiceRendering, dtmf_menu_prompt, to_speech
from connectors.voice.pages import CONTINUE_DIGIT, paginate, spoken_choice, wants_more
from credit.text.masking import mask_pii

# slots the dialogue fills from keyed digits, with their length
DIGIT_SLOTS: Dict[str, int] = {
    "application_id": 12,
    "id_last4": 4,
    "phone_last4": 4,
    "otp_code": 6,
    "contact_phone": 11,
}
DIGIT_SLOT_PROMPTS: Dict[str, str] = {
    "application_id": "可直接按键输入申请编号的12位数字。",
    "id_last4": "可按键输入，X请按星号键。",
    "phone_last4": "可按键输入。",
    "otp_code": "可按键输入6位验证码。",
    "contact_phone": "可按键输入11位手机号。",
}
MAIN_MENU_INTRO = "您可以直接说出您的问题，也可以按键选择："
NO_INPUT_PREFIX = "抱歉，没有听到您的声音。"
NO_INPUT_TRANSFER = "多次没有收到您的输入，正在为您转接人工客服，请稍候。"
NOT_UNDERSTOOD = "抱歉，我没有听清楚，请您换个说法再说一遍，或按0转人工客服。"
REPEAT_REQUEST = "好的，请您再说一遍。"
CONFIRM_TEMPLATE = "我听到的是：{text}。确认请按1或说“对”，重新说请按2。"
TRANSFER_PROMPT = "正在为您转接人工客服，请稍候。"
GOODBYE_FALLBACK = "感谢您的来电，再见。"
SPEECH_HINTS = ["利率", "利息", "申请进度", "还款", "投诉", "人工客服", "申请编号", "身份证后四位", "是的", "不是"]

_YES = re.compile(r"^(对|是|是的|对的|没错|确认|正确|嗯|好的?|yes|ok)[。！!.]?$", re.IGNORECASE)
_NO = re.compile(r"^(不对|不是|错了?|不|否|重说|重新说|no)[。！!.]?$", re.IGNORECASE)
_DTMF = re.compile(r"^[0-9*#]{1,32}$")


@dataclass
class InputSpec:
    modes: Tuple[str, ...] = ("speech", "dtmf")
    max_digits: int | None = 1
    min_digits: int = 1
    terminator: str = "#"
    timeout_s: float = 6.0
    barge_in: bool = True
    purpose: str = "free"  # free | menu | confirm | digits:<slot>
    hints: List[str] = field(default_factory=lambda: list(SPEECH_HINTS))

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["modes"] = list(self.modes)
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any] | None) -> InputSpec:
        if not isinstance(data, dict):
            return cls()
        data = dict(data)
        data["modes"] = tuple(data.get("modes") or ("speech", "dtmf"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class VoiceAction:
    type: str = "continue"  # continue | transfer | hangup
    queue: str | None = None
    summary: str | None = None
    reason: str | None = None


@dataclass
class VoiceTurn:
    prompts: List[str]
    input: InputSpec | None
    action: VoiceAction


@dataclass
class VoiceEvent:
    kind: str  # call_start | speech | dtmf | no_input | hangup
    text: str = ""
    confidence: float | None = None
    digits: str = ""


@dataclass
class CallState:
    no_input: int = 0
    last_prompts: List[str] = field(default_factory=list)
    last_input: Dict[str, Any] = field(default_factory=dict)
    menu: Dict[str, str] = field(default_factory=dict)
    cues: Dict[str, List[str]] = field(default_factory=dict)  # digit -> short speech naming that option
    expect: str | None = None  # digit slot the dialogue asks for
    pages: List[str] = field(default_factory=list)  # the rest of a turn longer than the budget (pages.py)
    after_pages: Dict[str, Any] = field(default_factory=dict)  # menu, cues, expect, input once they are said
    pending: str | None = None  # low-confidence speech awaiting confirmation
    started: bool = False
    ended: bool = False

    @classmethod
    def from_dict(cls, data: Dict[str, Any] | None) -> CallState:
        if not isinstance(data, dict):
            return cls()
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Step:
    """Either a dialogue turn (``text``) or an answer without one (``turn``)."""

    text: str | None = None
    turn: VoiceTurn | None = None
    call_start: bool = False


def normalize_digits(digits: str, expect: str | None = None) -> str:
    """Keyed digits as the dialogue should read them."""
    digits = digits.strip().rstrip("#")
    if digits.endswith("*") and digits[:-1].isdigit() and len(digits) in (4, 18):
        digits = digits[:-1] + "X"  # the X of an ID number
    digits = digits.replace("*", "").replace("#", "")
    if (expect == "application_id" or expect is None) and len(digits) == 12 and digits.isdigit():
        return "SQ" + digits
    return digits


def main_menu_prompt() -> str:
    return to_speech(MAIN_MENU_INTRO + dtmf_menu_prompt(MAIN_MENU))


class VoiceEngine:
    def __init__(self, min_confidence: float = 0.5, max_reprompts: int = 2, agent_queue: str = "general") -> None:
        self.min_confidence = min_confidence
        self.max_reprompts = max_reprompts
        self.agent_queue = agent_queue

    # --- before the dialogue ----------------------------------------------------------
    def before_turn(self, event: VoiceEvent, state: CallState) -> Step:
        if event.kind == "hangup":
            state.ended = True
            return Step(turn=VoiceTurn([], None, VoiceAction("hangup", reason="caller_hangup")))
        if event.kind == "call_start" or not state.started:
            state.started = True
            state.no_input = 0
            if event.kind == "call_start":
                return Step(text="/greet", call_start=True)
        if event.kind == "no_input":
            return self._no_input(state)
        if event.kind == "speech":
            text = unicodedata.normalize("NFKC", event.text or "").strip()
            if not text:
                return self._no_input(state)
            state.no_input = 0
            return self._speech(text, event.confidence, state)
        if event.kind == "dtmf":
            digits = (event.digits or "").strip()
            if not _DTMF.fullmatch(digits or "-"):
                return self._no_input(state)
            state.no_input = 0
            return self._dtmf(digits, state)
        return self._no_input(state)

    def _speech(self, text: str, confidence: float | None, state: CallState) -> Step:
        if state.pending is not None:
            pending, state.pending = state.pending, None
            if _YES.match(text):
                return Step(text=pending)
            if _NO.match(text):
                return self._repeat(state, REPEAT_REQUEST)
        if confidence is not None and confidence < self.min_confidence:
            state.pending = text
            # read back what was heard, never a full ID, card or phone number (the dialogue still gets it all)
            prompt = CONFIRM_TEMPLATE.format(text=mask_pii(text))
            spec = InputSpec(max_digits=1, purpose="confirm", hints=["对", "是的", "不对", "不是"])
            return Step(turn=VoiceTurn([to_speech(prompt)], spec, VoiceAction()))
        if state.pages and wants_more(text):
            return self._next_page(state)
        choice = None if state.pages else spoken_choice(text, state.menu, state.cues)
        if choice is not None:  # "二" / "安家分期" / "发短信": the option just offered
            return Step(text=state.menu[choice])
        state.pages = []
        if text.startswith("/"):
            text = "／" + text[1:]
        return Step(text=text)

    def _dtmf(self, digits: str, state: CallState) -> Step:
        if state.pending is not None:
            pending, state.pending = state.pending, None
            if digits == "1":
                return Step(text=pending)
            if digits == "2":
                return self._repeat(state, REPEAT_REQUEST)
        if digits in ("#", "*"):
            return self._repeat(state, "")
        if state.pages:
            if digits == CONTINUE_DIGIT:
                return self._next_page(state)
            self._end_pages(state)
        if state.expect in DIGIT_SLOTS and not (len(digits) == 1 and digits == "0"):
            return Step(text=normalize_digits(digits, state.expect))
        if len(digits) == 1:
            if digits in state.menu:
                return Step(text=state.menu[digits])
            for option in MAIN_MENU:
                if option.digit == digits:
                    return Step(text=option.payload)
        return Step(text=normalize_digits(digits, state.expect))

    def _next_page(self, state: CallState) -> Step:
        page = state.pages.pop(0)
        if state.pages:
            spec = InputSpec(max_digits=1, purpose="menu")
        else:
            spec = self._end_pages(state)
        state.last_prompts = [page]
        state.last_input = spec.to_dict()
        return Step(turn=VoiceTurn([page], spec, VoiceAction()))

    @staticmethod
    def _end_pages(state: CallState) -> InputSpec:
        """The last page is said (or the caller moved on): the turn's own menu and input apply again."""
        after, state.pages, state.after_pages = state.after_pages, [], {}
        state.menu = dict(after.get("menu") or {})
        state.cues = dict(after.get("cues") or {})
        state.expect = after.get("expect")
        return InputSpec.from_dict(after.get("input"))

    def _repeat(self, state: CallState, prefix: str) -> Step:
        prompts = ([prefix] if prefix else []) + (state.last_prompts or [main_menu_prompt()])
        return Step(turn=VoiceTurn(prompts, InputSpec.from_dict(state.last_input), VoiceAction()))

    def _no_input(self, state: CallState) -> Step:
        state.no_input += 1
        if state.no_input > self.max_reprompts:
            return Step(
                turn=VoiceTurn(
                    [NO_INPUT_TRANSFER],
                    None,
                    VoiceAction("transfer", queue=self.agent_queue, summary="电话渠道：客户连续多次无输入",
                                reason="no_input"),
                )
            )
        return self._repeat(state, NO_INPUT_PREFIX)

    # --- after the dialogue -----------------------------------------------------------
    def after_turn(
        self,
        rendering: VoiceRendering,
        state: CallState,
        requested_slot: str | None = None,
        call_start: bool = False,
    ) -> VoiceTurn:
        prompts = list(rendering.prompts)
        state.menu = dict(rendering.menu)
        state.cues = {d: list(w) for d, w in rendering.cues.items()}
        state.expect = requested_slot if requested_slot in DIGIT_SLOTS else None
        state.pages, state.after_pages = [], {}

        if rendering.handoff:
            if not prompts:
                prompts = [TRANSFER_PROMPT]
            state.ended = True
            action = VoiceAction(
                "transfer", queue=rendering.handoff.queue, summary=rendering.handoff.summary, reason="handoff"
            )
            return VoiceTurn(prompts, None, action)
        if rendering.end_call:
            state.ended = True
            return VoiceTurn(prompts or [GOODBYE_FALLBACK], None, VoiceAction("hangup", reason="goodbye"))

        if call_start and not rendering.menu:
            prompts.append(main_menu_prompt())
        if not prompts:
            prompts = [NOT_UNDERSTOOD]

        if state.expect:
            length = DIGIT_SLOTS[state.expect]
            spec = InputSpec(
                max_digits=length,
                min_digits=1,
                timeout_s=10.0,
                purpose=f"digits:{state.expect}",
                hints=["申请编号", "后四位", "验证码"],
            )
            hint = DIGIT_SLOT_PROMPTS.get(state.expect)
            if hint:
                prompts[-1] = prompts[-1] + to_speech(hint)
        elif rendering.menu:
            spec = InputSpec(max_digits=1, purpose="menu")
        else:
            spec = InputSpec(max_digits=1, purpose="free")
        prompts, pages = paginate(prompts)
        if pages:  # longer than the budget: page by page, the turn's menu and input with the last page
            state.pages = pages
            state.after_pages = {"menu": state.menu, "cues": state.cues, "expect": state.expect,
                                 "input": spec.to_dict()}
            state.menu, state.cues, state.expect = {}, {}, None
            spec = InputSpec(max_digits=1, purpose="menu")
        state.last_prompts = prompts
        state.last_input = spec.to_dict()
        return VoiceTurn(prompts, spec, VoiceAction())
