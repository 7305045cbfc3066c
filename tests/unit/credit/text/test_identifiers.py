"""credit.text.numbers, table-driven: width folding and identifiers (application numbers, ID and phone digits)."""

from __future__ import annotations

import pytest

from credit.entities import extract_all
from credit.text.numbers import (
    extract_application_id,
    extract_id_last4,
    extract_otp,
    extract_phone_last4,
    extract_phone_number,
    normalize,
)


def ents(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.value) for s in extract_all(text)]


# --------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ＳＱ２０２６", "SQ2026"),
        ("ｓｑ１２３", "sq123"),
        ("借　１万", "借 1万"),  # ideographic space
        ("a\tb\nc\u00a0d", "a b c d"),
        ("￥２０，０００", "¥20,000"),
        ("１２３－４５６", "123-456"),
        ("", ""),
        (None, ""),
        ("😀中文abc", "😀中文abc"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_normalize_is_length_preserving():
    text = "ＳＱ　２０２６—１１２０\t０００１ 😀"
    assert len(normalize(text)) == len(text)


# --------------------------------------------------------------------------
# application id
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SQ202611200001", "SQ202611200001"),
        ("sq202611200001", "SQ202611200001"),
        ("ｓｑ２０２６１１２０００01", "SQ202611200001"),
        ("ＳＱ２０２６１１２００００１", "SQ202611200001"),
        ("SQ 2026-1120-0001", "SQ202611200001"),
        ("SQ-2026 1120 0001", "SQ202611200001"),
        ("我的申请编号是SQ202611200001，帮我查下进度", "SQ202611200001"),
        ("SQ二零二六一一二零零零零一", "SQ202611200001"),
        ("SQ2026112000011", None),  # 13 digits
        ("SQ20261120000", None),  # 11 digits
        ("XSQ202611200001", None),  # part of a longer code
        ("202611200001", None),  # bare needs allow_bare
        ("", None),
        ("查一下进度", None),
    ],
)
def test_extract_application_id(text, expected):
    assert extract_application_id(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("202611200001", "SQ202611200001"),
        ("2026 1120 0001", "SQ202611200001"),
        ("SQ202611200001", "SQ202611200001"),
        ("2026112000011", None),  # 13 digits
        ("302611200001", None),  # must start with 20
        ("13812345678", None),
    ],
)
def test_extract_application_id_bare(text, expected):
    assert extract_application_id(text, allow_bare=True) == expected


# --------------------------------------------------------------------------
# ID last four
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234", "1234"),
        ("123x", "123X"),
        ("123X", "123X"),
        ("身份证后四位是123x", "123X"),
        ("后四位是123x", "123X"),
        ("身份证后四位123x", "123X"),
        ("一二三四", "1234"),
        ("幺二三四", "1234"),
        ("五六七叉", "567X"),
        ("后四位是五六七叉", "567X"),
        ("123*", "123X"),  # keypad: * for X
        ("１２３Ｘ", "123X"),
        ("是1234", "1234"),
        ("1234567", None),  # part of a longer number
        ("12345", None),
        ("123", None),
        ("SQ202611200001", None),
        ("手机尾号5678", None),  # phone, not ID
        ("银行卡尾号1234", None),
        ("我借5000元", None),
        ("2026年", None),
        ("", None),
        ("x123", None),
        ("12x4", None),
    ],
)
def test_extract_id_last4(text, expected):
    assert extract_id_last4(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我的身份证后四位是1234谢谢", "1234"),
        ("证件尾号123X", "123X"),
        ("尾号1234", "1234"),
        ("1234", "1234"),  # the whole message is the code
        ("我觉得1234挺好", None),  # no context
        ("手机后四位1234", None),
    ],
)
def test_extract_id_last4_strict(text, expected):
    assert extract_id_last4(text, strict_context=True) == expected


# --------------------------------------------------------------------------
# phone
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("手机尾号5678", "5678"),
        ("手机号后四位是5678", "5678"),
        ("5678", "5678"),
        ("电话尾号幺三五七", "1357"),
        ("13812345678", "5678"),  # tail of a full number
        ("身份证后四位1234", None),
        ("123x", None),
        ("", None),
    ],
)
def test_extract_phone_last4(text, expected):
    assert extract_phone_last4(text) == expected


def test_extract_phone_last4_strict():
    assert extract_phone_last4("我觉得5678挺好", strict_context=True) is None
    assert extract_phone_last4("手机尾号5678", strict_context=True) == "5678"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "13812345678"),
        ("我的手机号是13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("幺三八幺二三四五六七八", "13812345678"),
        ("12812345678", None),  # second digit 3-9
        ("138123456789", None),  # 12 digits
        ("1381234567", None),  # 10 digits
        ("", None),
    ],
)
def test_extract_phone_number(text, expected):
    assert extract_phone_number(text) == expected


# --------------------------------------------------------------------------
# OTP
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("123456", "123456"),
        ("验证码123456", "123456"),
        ("验证码是 123 456", "123456"),
        ("code: 654321", "654321"),
        ("幺二三四五六", "123456"),
        ("我的验证码是一二三四五六", "123456"),
        ("１２３４５６", "123456"),
        ("1234567", None),
        ("12345", None),
        ("13812345678", None),
        ("SQ202611200001", None),
        ("", None),
    ],
)
def test_extract_otp(text, expected):
    assert extract_otp(text) == expected
