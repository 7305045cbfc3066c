"""Issue 28: what a TTS engine reads badly never reaches it (credit/text/ear.py inside to_speech)."""
from __future__ import annotations

import pytest

from credit.text.speech import to_speech
from credit.voice.turns import TTS_HOSTILE


@pytest.mark.parametrize(("text", "spoken"), [
    ("年化利率(单利) 7.2%–23.9%", "年化利率，按单利计算，百分之七点二至百分之二十三点九。"),
    ("罚息年化利率（单利）为合同年化利率的 1.5 倍", "罚息年化利率，按单利计算，为合同年化利率的一点五倍。"),
    ("打开 APP「我的借款」，选择要提前还款的借款", "打开手机应用的借款页面，选择要提前还款的借款。"),
    ("办理路径：APP「我的借款」-「提前还款」。", "办理路径：手机应用的提前还款页面。"),
    ("请在 APP「我的借款-主动还款」还款", "请在手机应用的主动还款页面还款。"),
    ("APP「我的-账户与安全-更换手机号」", "手机应用的更换手机号页面。"),
    ("可在申请短信或App“我的申请”里找到", "可在申请短信或手机应用的申请页面里找到。"),
    ("详情见APP。", "详情见手机应用。"),
    ("点击「提前还款」，确认应还金额（本金、利息、手续费分项列明）",
     "点击提前还款，确认应还金额，本金、利息、手续费分项列明。"),
    ("按剩余本金 × 年化利率 ÷ 360 × 实际天数计算", "按剩余本金乘以年化利率除以三百六十乘以实际天数计算。"),
    ("请立即拨打 110 报警或 96110 反诈专线", "请立即拨打幺幺零报警或九六幺幺零反诈专线。"),
    ("期限3/6/12个月", "期限三、六、十二个月。"),
    ("服务时间（每天 9:00–21:00（法定节假日照常服务））", "服务时间，每天九点至二十一点，法定节假日照常服务。"),
])
def test_read_as_a_person_says_it(text: str, spoken: str) -> None:
    assert to_speech(text) == spoken
    assert not TTS_HOSTILE.search(to_speech(text))


def test_amounts_that_look_like_service_numbers_stay_amounts() -> None:
    assert to_speech("借110元") == "借一百一十元。"
    assert to_speech("120期") == "一百二十期。"


def test_brackets_of_any_kind_and_stray_ones_go() -> None:
    for text in ("（注）", "a（", "）b", "（（x））", "年化利率（单利）", "〔2021〕第3号", "「我的」"):
        assert not TTS_HOSTILE.search(to_speech(text)), to_speech(text)
