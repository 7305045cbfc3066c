"""Issue 28 on the channel side: every response template of domain/responses.yml as the phone says it (the
ear gate, the key menu, the digit-entry hint), the voice forms said exactly as measured, the pagination net for
turns of several messages, spoken answers to a key menu, and WeChat voice-message replies."""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from connectors.render import render_voice
from connectors.voice.engine import DIGIT_SLOT_PROMPTS, CallState, VoiceEngine, VoiceEvent
from connectors.voice.pages import CONTINUE_PROMPT, paginate, spoken_choice
from connectors.wechat.voice import render_wechat_voice, voice_choice
from credit.catalogue.loader import load_catalogue
from credit.compliance import FRAUD_WARNING, PRIVACY_NOTICE, PRIVACY_NOTICE_VOICE, RATE_DISCLAIMER, check_text
from credit.voice import kinds
from credit.voice.turns import SPOKEN_LIMIT, TTS_HOSTILE, Ask, first_turn, next_turn

ROOT = Path(__file__).resolve().parents[3]
CAT = load_catalogue()
FILLS = {"attempts_left": "2", "phone_last4": "5678"}


def responses() -> Iterator[Tuple[str, Dict[str, Any]]]:
    data = yaml.safe_load((ROOT / "domain" / "responses.yml").read_text(encoding="utf-8"))["responses"]
    for name, variants in data.items():
        for variant in variants:
            message = dict(variant)
            message["text"] = str(message.get("text") or "").format(**FILLS)
            yield name, message


def engine() -> VoiceEngine:
    return VoiceEngine()


def said(prompts: List[str]) -> str:
    return "".join(prompts)


@pytest.mark.parametrize(("name", "message"), list(responses()))
def test_every_response_template_as_the_phone_says_it(name: str, message: Dict[str, Any]) -> None:
    slot = {"utter_ask_application_id": "application_id", "utter_ask_id_last4": "id_last4",
            "utter_ask_otp_code": "otp_code", "utter_otp_sent": "otp_code",
            "utter_ask_contact_phone": "contact_phone"}.get(name)
    for call_start in (False, True) if name == "utter_greet" else (False,):  # a call opens with the notice
        messages = [{"text": PRIVACY_NOTICE_VOICE}, message] if call_start else [message]
        state = CallState(started=True)
        turn = engine().after_turn(render_voice(messages), state, slot, call_start=call_start)
        heard = said(turn.prompts)
        assert len(heard) <= SPOKEN_LIMIT, (name, len(heard), heard)
        assert not TTS_HOSTILE.search(heard), (name, heard)
        assert check_text(heard) == [], (name, heard)
        assert not state.pages, (name, heard)  # a template fits one turn: no paging needed
        if slot:
            assert heard.endswith(render_voice([{"text": DIGIT_SLOT_PROMPTS[slot]}]).prompts[0]), heard


def test_a_voice_form_is_said_exactly_as_it_was_measured() -> None:
    for kind, question, product in itertools.product(kinds.KINDS, ("", "提前还款利息怎么算", "几号还款"),
                                                     (None, "suixinjie", "anjia")):
        turn = first_turn(kinds.build(CAT, kind, Ask(question, product)), question)
        while turn is not None:
            rendering = render_voice([{"text": turn.text, "buttons": turn.buttons, "custom": turn.state}])
            assert said(rendering.prompts) == turn.spoken()
            assert rendering.menu == {str(b.get("key") or "1"): b["payload"] for b in turn.buttons} or \
                not all(b.get("key") for b in turn.buttons)
            turn = next_turn(turn.state) if turn.state.get("rest") else None


@pytest.mark.parametrize("text", [PRIVACY_NOTICE, FRAUD_WARNING, RATE_DISCLAIMER + FRAUD_WARNING])
def test_a_long_turn_is_said_page_by_page_and_nothing_is_dropped(text: str) -> None:
    state = CallState(started=True)
    menu = [{"title": "转人工客服", "payload": "/request_human"}]
    turn = engine().after_turn(render_voice([{"text": text}, {"text": "还有其他问题吗？", "buttons": menu}]), state)
    pages = [said(turn.prompts)]
    assert pages[0].endswith(CONTINUE_PROMPT) and state.menu == {}
    while state.pages:
        step = engine().before_turn(VoiceEvent("dtmf", digits="1"), state)
        pages.append(said(step.turn.prompts))
    assert all(len(p) <= SPOKEN_LIMIT for p in pages), [len(p) for p in pages]
    whole = "".join(p.replace(CONTINUE_PROMPT, "") for p in pages)
    expected = said(render_voice([{"text": text}, {"text": "还有其他问题吗？", "buttons": menu}]).prompts)
    assert whole == expected
    assert state.menu == {"0": "/request_human"}  # the turn's own keys come back with its last page
    assert engine().before_turn(VoiceEvent("dtmf", digits="0"), state).text == "/request_human"


def test_saying_continue_serves_the_next_page_and_a_new_question_leaves_the_pages() -> None:
    state = CallState(started=True)
    engine().after_turn(render_voice([{"text": PRIVACY_NOTICE}]), state)
    assert state.pages
    assert engine().before_turn(VoiceEvent("speech", text="继续", confidence=0.9), state).turn is not None
    state = CallState(started=True)
    engine().after_turn(render_voice([{"text": PRIVACY_NOTICE}]), state)
    assert engine().before_turn(VoiceEvent("speech", text="利息多少", confidence=0.9), state).text == "利息多少"
    assert state.pages == []


def test_paginate_keeps_short_turns_whole() -> None:
    assert paginate(["您好。", "请问有什么可以帮您？"]) == (["您好。", "请问有什么可以帮您？"], [])


def test_a_spoken_digit_or_an_option_s_words_choose_it() -> None:
    turn = first_turn(kinds.build(CAT, "prepayment", Ask("提前还款要手续费吗")), "提前还款要手续费吗")
    rendering = render_voice([{"text": turn.text, "buttons": turn.buttons}])
    state = CallState(started=True)
    engine().after_turn(rendering, state)
    for text, payload in (("二", '/affirm{"product":"anjia"}'), ("按三", '/affirm{"product":"zhouzhuan"}'),
                          ("1", '/affirm{"product":"suixinjie"}'), ("安家分期", '/affirm{"product":"anjia"}'),
                          ("小微周转贷吧", '/affirm{"product":"zhouzhuan"}')):
        assert engine().before_turn(VoiceEvent("speech", text=text, confidence=0.9), state).text == payload, text
    # a whole new question is not taken for an option
    assert engine().before_turn(VoiceEvent("speech", text="随心借的利率是多少呢我想问一下", confidence=0.9),
                                state).text == "随心借的利率是多少呢我想问一下"


def test_saying_the_offered_topic_or_sms_chooses_it() -> None:
    turn = first_turn(kinds.build(CAT, "prepayment", Ask("手续费", "suixinjie")), "手续费")
    rendering = render_voice([{"text": turn.text, "buttons": turn.buttons}])
    assert spoken_choice("怎么算利息", rendering.menu, rendering.cues) == "1"
    assert spoken_choice("发短信给我", rendering.menu, rendering.cues) == "2"
    assert spoken_choice("你好", rendering.menu, rendering.cues) is None


def test_a_wechat_voice_message_is_answered_in_spoken_words_with_keys_to_reply() -> None:
    turn = first_turn(kinds.build(CAT, "prepayment", Ask("提前还款要手续费吗", "suixinjie")), "提前还款要手续费吗")
    rendering, cues = render_wechat_voice([{"text": turn.text, "buttons": turn.buttons, "custom": turn.state}])
    [reply] = rendering.texts
    assert reply.startswith("随心借提前还款") and "百分之一" in reply and "请回复1或直接说" in reply
    assert not TTS_HOSTILE.search(reply) and len(reply) <= SPOKEN_LIMIT
    assert rendering.menu["1"] == "/affirm" and voice_choice("一。", rendering.menu, cues) == "/affirm"
    assert voice_choice("想听利息怎么算", rendering.menu, cues) == "/affirm"


def test_a_notice_and_the_answer_to_a_voice_message_go_as_two_messages() -> None:
    turn = first_turn(kinds.build(CAT, "overdue", Ask("逾期了会怎么样")), "逾期了会怎么样")
    rendering, _ = render_wechat_voice([{"text": PRIVACY_NOTICE_VOICE}, {"text": turn.text, "buttons": turn.buttons}])
    assert len(rendering.texts) == 2 and all(len(t) <= SPOKEN_LIMIT for t in rendering.texts)
