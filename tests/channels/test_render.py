"""Rendering layer: speech text, WeChat text splitting, numbered options and DTMF menus."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import ids
from connectors.render import (
    MAIN_MENU,
    WECHAT_TEXT_LIMIT_BYTES,
    assign_digits,
    dtmf_menu_prompt,
    ends_call,
    handoff_of,
    pack_texts,
    render_voice,
    render_wechat,
    split_utf8,
    to_speech,
)
from credit.text.speech import cardinal, money

ASCII_DIGIT = re.compile(r"[0-9]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("年化利率12%", "年化利率百分之十二"),
        ("年化利率7.2%~18%（单利）", "年化利率百分之七点二至百分之十八，按单利计算"),
        ("本期应还¥1,776.98", "本期应还一千七百七十六元九角八分"),
        ("每期约888.49元", "每期约八百八十八元四角九分"),
        ("额度最高200,000元", "额度最高二十万元"),
        ("还款2000元", "还款两千元"),
        ("手续费0.05元", "手续费五分"),
        ("借1.5万元", "借一点五万元"),
        ("申请编号SQ202611200001", "申请编号S Q，二零二六，幺幺二零，零零零幺"),
        ("客服热线400-820-8820", "客服热线四零零，八二零，八八二零"),
        ("工作日9:00-21:00", "工作日九点至二十一点"),
        ("2026-11-20前还款", "二零二六年十一月二十日前还款"),
        ("分12期", "分十二期"),
        ("验证码123456已发送至138****5678", "验证码幺二三四五六已发送至尾号五六七八"),
        ("身份证后四位123X", "身份证后四位幺二三X"),
    ],
)
def test_to_speech_reads_figures_like_a_person(text: str, expected: str) -> None:
    assert expected in to_speech(text)


def test_to_speech_strips_emoji_links_markdown_and_tables() -> None:
    text = (
        "**温馨提示** 😊 详见 [费率说明](https://example.com/rates?x=1) 或 https://example.com\n"
        "| 产品 | 年化利率 | 期限 |\n|---|---|---|\n| 随心借 | 7.2%-18% | 3-36个月 |\n"
        "- 第一条\n- 第二条 ✅"
    )
    spoken = to_speech(text)
    assert "温馨提示" in spoken and "费率说明" in spoken
    assert "随心借：年化利率百分之七点二至百分之十八，期限三至三十六个月" in spoken
    for forbidden in ("http", "example.com", "**", "|", "---", "😊", "✅", "[", "]("):
        assert forbidden not in spoken
    assert not ASCII_DIGIT.search(spoken)


def test_money_and_cardinal_helpers() -> None:
    assert money("1776.98") == "一千七百七十六元九角八分"
    assert money("1000.01") == "一千元零一分"
    assert money("100.00") == "一百元"
    assert money("0.98") == "九角八分"
    assert cardinal("20000") == "两万"
    assert cardinal("12") == "十二"
    assert cardinal("3.6") == "三点六"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_to_speech_never_leaves_ascii_digits_or_crashes(text: str) -> None:
    spoken = to_speech(text)
    assert isinstance(spoken, str)
    assert not ASCII_DIGIT.search(spoken)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=3000), st.integers(min_value=4, max_value=4096))
def test_split_utf8_respects_the_byte_limit_and_keeps_the_text(text: str, limit: int) -> None:
    pieces = split_utf8(text, limit)
    assert all(len(p.encode("utf-8")) <= limit for p in pieces)
    assert all(p for p in pieces)
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", "".join(pieces)) == squeeze.sub("", text)


def test_split_prefers_sentence_boundaries() -> None:
    sentence = "这是一句用于测试拆分的中文说明。"  # 16 characters, 48 bytes
    pieces = split_utf8(sentence * 100, WECHAT_TEXT_LIMIT_BYTES)
    assert len(pieces) >= 2
    assert all(p.endswith("。") for p in pieces)
    assert all(len(p.encode("utf-8")) <= 2048 for p in pieces)


def test_pack_texts_joins_short_messages_and_splits_long_ones() -> None:
    assert pack_texts(["你好", "请问有什么可以帮您？"]) == ["你好\n\n请问有什么可以帮您？"]
    packed = pack_texts(["短消息", "长" * 1500])
    assert all(len(p.encode("utf-8")) <= 2048 for p in packed)
    assert packed[0].startswith("短消息")


def test_buttons_keep_main_menu_digits_and_others_take_free_ones() -> None:
    buttons = [
        {"title": "查询进度", "payload": "/check_progress"},
        {"title": "确认", "payload": "/affirm"},
        {"title": "转人工", "payload": "/request_human"},
        {"title": "否", "payload": "/deny"},
    ]
    options = {o.payload: o.digit for o in assign_digits(buttons)}
    assert options == {"/check_progress": "2", "/request_human": "0", "/affirm": "1", "/deny": "3"}


def test_main_menu_is_the_documented_one() -> None:
    assert [(o.digit, o.payload) for o in MAIN_MENU] == [
        ("1", "/ask_interest_rate"),
        ("2", "/check_progress"),
        ("3", "/ask_repayment"),
        ("4", "/complain"),
        ("0", "/request_human"),
    ]
    prompt = dtmf_menu_prompt(MAIN_MENU)
    assert prompt.index("请按1") < prompt.index("请按2") < prompt.index("请按0")


def test_render_wechat_numbers_buttons_and_keeps_menu() -> None:
    rendering = render_wechat(
        [{"text": "请选择您要办理的业务：", "buttons": [{"title": "查询进度", "payload": "/check_progress"}]}]
    )
    assert rendering.texts == ["请选择您要办理的业务：\n\n回复数字即可选择：\n【2】查询进度"]
    assert rendering.menu == {"2": "/check_progress"}


def test_render_wechat_fallback_menu_and_handoff() -> None:
    rendering = render_wechat([{"text": "欢迎关注"}], fallback_menu=MAIN_MENU)
    assert set(rendering.menu) == {"0", "1", "2", "3", "4"}
    assert "回复数字即可选择" in rendering.texts[0]
    handoff = render_wechat(
        [{"text": "正在转接"}, {"custom": {"type": "handoff", "queue": "complaint", "summary": "s"}}]
    )
    assert handoff.handoff is not None and handoff.handoff.queue == "complaint"


def test_render_voice_menu_handoff_and_goodbye() -> None:
    voice = render_voice(
        [{"text": "请问您要办理什么？", "buttons": [{"title": "查询进度", "payload": "/check_progress"}]}]
    )
    assert voice.menu == {"2": "/check_progress"}
    assert voice.prompts == ["请问您要办理什么？查询进度请按二。"]
    assert handoff_of([{"custom": {"type": "handoff", "queue": "q"}}]).queue == "q"
    assert ends_call([{"text": "再见", "utter_action": "utter_goodbye"}])
    assert ends_call([{"custom": {"type": "end_call"}}])
    assert not ends_call([{"text": "再见"}])


def test_sender_ids_are_namespaced_per_channel() -> None:
    assert ids.namespaced(ids.WECHAT, "oABC") == "wx:oABC"
    assert ids.namespaced(ids.REST, "wx:oABC") == "rest:wx:oABC"  # cannot reach the WeChat conversation
    assert ids.split("ivr:c1") == ("ivr", "c1")
    assert ids.raw_id(ids.WEB, "web:abc") == "abc"
    for bad in ("", "a" * 129, "a b", "a\n", "中文", None, 12):
        with pytest.raises(ids.InvalidSenderId):
            ids.namespaced(ids.WECHAT, bad)
    with pytest.raises(ValueError):
        ids.raw_id(ids.WECHAT, "rest:oABC")


def test_two_is_liang_before_measure_words_but_not_as_an_ordinal() -> None:
    assert to_speech("分2期，共2笔") == "分两期，共两笔。"
    assert to_speech("第2期") == "第二期。"
    assert to_speech("12期") == "十二期。"
    assert to_speech("年化利率１２％") == "年化利率百分之十二。"
