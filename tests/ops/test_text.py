from __future__ import annotations

import pytest

from ops.text import clean_text, mask_text, near_key, neutralise_cell, normalize, personal_data_kinds


@pytest.mark.parametrize("text, expected", [
    ("我叫张三，想问下利息", "我叫张某，想问下利息"),
    ("我是李四", "我是李某"),
    ("本人王五，身份证110101199003071234", "本人王某，身份证110***********1234"),
    ("姓名：欧阳娜娜 手机13812345678", "姓名：欧阳某 手机138****5678"),
    ("卡号6222021234567890123 验证码 482913", "卡号6222 **** **** 0123 验证码 ******"),
])
def test_mask_text_hides_personal_data(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert personal_data_kinds(mask_text(text)) == []


@pytest.mark.parametrize("text", ["我是马上要还款的", "我是新用户", "我是张家口的", "利息多少", "我叫张某"])
def test_mask_text_leaves_ordinary_text(text: str) -> None:
    assert mask_text(text) == text


def test_personal_data_kinds_names_each_kind() -> None:
    assert personal_data_kinds("我叫张三 13812345678") == ["手机号", "姓名"]


def test_normalize_ignores_case_width_punctuation_and_emoji() -> None:
    assert normalize("利息多少？ ") == normalize("利息多少") == normalize("利息　多少!😊")
    assert normalize("ＡＰＲ多少") == normalize("apr多少")


def test_near_key_merges_near_identical_texts() -> None:
    assert near_key("急急急！！利息多少啊") == near_key("急 利息多少")
    assert near_key("借1万利息") == near_key("借5万利息")
    assert near_key("利息多少") != near_key("额度多少")


def test_clean_text_single_line_without_control_characters() -> None:
    assert clean_text(" a\u2028b\x00c\u200b\t d\r\ne ") == "a bc d e"


@pytest.mark.parametrize("value", ["=1+1", "+86", "-3", "@SUM(A1)", "\tx", "＝1"])
def test_neutralise_cell_prefixes_formula_starts(value: str) -> None:
    assert neutralise_cell(value) == "'" + value
    assert neutralise_cell("利息多少") == "利息多少"
