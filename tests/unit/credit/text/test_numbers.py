"""Table-driven tests for credit.text.numbers (regex + cn2an extraction)."""

from __future__ import annotations

import time

import pytest

from credit import entities
from credit.entities import extract_all
from credit.text.numbers import (
    Span,
    extract_application_id,
    extract_id_last4,
    extract_otp,
    extract_phone_last4,
    extract_phone_number,
    normalize,
    parse_amount,
    parse_term,
)
from credit.text.product_match import ProductMatcher


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


# --------------------------------------------------------------------------
# amount and term
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5000", 5000),
        ("5千", 5000),
        ("五千", 5000),
        ("5k", 5000),
        ("5K", 5000),
        ("1.5万", 15000),
        ("一万五", 15000),
        ("一万五千块", 15000),
        ("两万", 20000),
        ("2w", 20000),
        ("2W", 20000),
        ("¥20,000", 20000),
        ("￥20000", 20000),
        ("20000元", 20000),
        ("3千块钱", 3000),
        ("借1万分12期", 10000),
        ("借1万分12期利息多少", 10000),
        ("我想借两万五", 25000),
        ("一点五万", 15000),
        ("1万5", 15000),
        ("十万", 100000),
        ("1,000,000元", 1000000),
        ("５０００元", 5000),
        ("12期", None),
        ("一年", None),
        ("千万别借", None),
        ("我想借一点钱", None),
        ("99999999999999元", None),  # absurd
        ("1" * 40 + "元", None),
        ("", None),
        ("利息多少", None),
        ("等一下", None),  # a stray 一 is not an amount
        ("50", None),  # bare numbers below 100 are not amounts
        ("50元", 50),
    ],
)
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12期", 12),
        ("十二期", 12),
        ("十二个月", 12),
        ("12个月", 12),
        ("一年", 12),
        ("两年", 24),
        ("半年", 6),
        ("一年半", 18),
        ("分12期", 12),
        ("分三十六期", 36),
        ("借1万分12期", 12),
        ("借1万分12期利息多少", 12),
        ("１２期", 12),
        ("12", 12),  # bare answer to "分几期?"
        ("2026年", None),
        ("三年前借过", None),
        ("第3期还款", None),
        ("1000期", None),
        ("借5000", None),
        ("", None),
    ],
)
def test_parse_term(text, expected):
    assert parse_term(text) == expected


# --------------------------------------------------------------------------
# extract_all
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("借1万分12期利息多少", [("amount", "10000"), ("term", "12")]),
        ("SQ202611200001", [("application_id", "SQ202611200001")]),
        ("ｓｑ２０２６１１２０００01", [("application_id", "SQ202611200001")]),
        ("身份证后四位123x", [("id_last4", "123X")]),
        ("1234", [("id_last4", "1234")]),
        ("手机尾号5678", [("phone_last4", "5678")]),
        ("手机号13812345678", [("phone_number", "13812345678")]),
        ("验证码123456", [("otp_code", "123456")]),
        ("123456", [("otp_code", "123456")]),
        ("五六七叉", [("id_last4", "567X")]),
        ("借5000", [("amount", "5000")]),
        ("额度5000", [("amount", "5000")]),
        ("5000块", [("amount", "5000")]),
        ("借款两万分24期", [("amount", "20000"), ("term", "24")]),
        ("我借了5000块分6个月", [("amount", "5000"), ("term", "6")]),
        ("借5000，身份证后四位1234", [("amount", "5000"), ("id_last4", "1234")]),
        ("1234是我身份证后四位", [("id_last4", "1234")]),
        ("手机号是13812345678，身份证后四位1234", [("phone_number", "13812345678"), ("id_last4", "1234")]),
        ("申请编号202611200001", [("application_id", "SQ202611200001")]),
        # no context -> nothing
        ("我觉得1234挺好", []),
        ("10000", []),
        ("1234567", []),
        ("SQ2026112000011", []),
        ("银行卡尾号1234", []),
        ("还款日是15号", []),
        ("逾期3天了", []),
        ("利率3.6%", []),
        ("第3期还款", []),
        ("2026年", []),
        ("千万别", []),
        ("", []),
    ],
)
def test_extract_all_numbers(text, expected):
    assert ents(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("等了好久太慢了", [("complaint_category", "slow")]),
        ("放款一直拖", [("complaint_category", "slow")]),
        ("乱收费", [("complaint_category", "fee")]),
        ("利息高得离谱", [("complaint_category", "fee")]),
        ("莫名其妙扣了我200", [("complaint_category", "fee")]),
        ("客服态度太差", [("complaint_category", "attitude")]),
        ("打电话还骂人", [("complaint_category", "attitude")]),
        ("找客服没人不理我", [("complaint_category", "attitude")]),
        ("你们催收爆通讯录", [("complaint_category", "collection")]),
        ("天天骚扰我家人", [("complaint_category", "collection")]),
        ("拖欠了两期", []),  # 拖欠 = arrears, not "slow"
    ],
)
def test_extract_all_complaints(text, expected):
    assert [e for e in ents(text) if e[0] == "complaint_category"] == expected


def test_extract_all_products_from_catalogue():
    assert ents("随心借能借多少") == [("product", "suixinjie")]
    assert ents("我想申请装修贷5万分24期") == [
        ("product", "anjia"),
        ("amount", "50000"),
        ("term", "24"),
    ]
    assert ents("小微周转贷利息多少") == [("product", "zhouzhuan")]


def test_extract_all_products_with_patched_table(monkeypatch):
    # independent of catalogue contents: the alias table is the only input
    monkeypatch.setattr(entities, "product_matcher", lambda: ProductMatcher({"测试贷": "test", "xyz": "x"}))
    assert ents("测试贷怎么样") == [("product", "test")]
    assert ents("xyz") == [("product", "x")]
    assert ents("axyzb") == []  # latin aliases are whole words only


def test_spans_point_into_original_text():
    text = "你好ＳＱ２０２６１１２０００01，借１万分１２期"
    spans = extract_all(text)
    assert [s.entity for s in spans] == ["application_id", "amount", "term"]
    for s in spans:
        assert isinstance(s, Span)
        assert text[s.start : s.end] == s.raw
    assert spans[0].raw == "ＳＱ２０２６１１２０００01"


def test_spans_do_not_overlap():
    text = "SQ202611200001 手机13812345678 身份证后四位123x 借1万分12期 验证码123456 随心借 催收骚扰"
    spans = extract_all(text)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    assert {s.entity for s in spans} == {
        "application_id",
        "phone_number",
        "id_last4",
        "amount",
        "term",
        "otp_code",
        "product",
        "complaint_category",
    }


def test_values_are_strings():
    for s in extract_all("借1万分12期，身份证后四位123x"):
        assert isinstance(s.value, str)


# --------------------------------------------------------------------------
# hostile input
# --------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "\n\t",
    "😀" * 50,
    "借😀1万😀分12期",
    "Ｈｅｌｌｏ，我想借钱 🙏🙏",
    "混合 English and 中文 and русский 123",
    "1" * 10_000,
    "借" * 10_000,
    "一" * 10_000,
    "1234 " * 2_000,
    "尾号1234 " * 1_000,
    "分" + " " * 10_000,
    "SQ" * 5_000,
    "9" * 40 + "元",
    "\x00\x01\x02",
    "٣٤٥٦",  # Arabic-Indic digits are not ASCII digits
    "¹²³⁴",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_does_not_crash(text):
    start = time.perf_counter()
    spans = extract_all(text)
    parse_amount(text)
    parse_term(text)
    extract_id_last4(text)
    extract_phone_last4(text)
    extract_otp(text)
    extract_phone_number(text)
    extract_application_id(text, allow_bare=True)
    assert time.perf_counter() - start < 3.0
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)


def test_hostile_specific_values():
    assert ents("借😀1万😀分12期") == [("amount", "10000"), ("term", "12")]
    assert extract_all("1" * 10_000) == []
    assert extract_id_last4("٣٤٥٦") is None
    assert extract_id_last4("¹²³⁴") is None
    assert parse_amount("9" * 40 + "元") is None


def test_none_input():
    assert extract_all(None) == []
    assert parse_amount(None) is None
    assert parse_term(None) is None
    assert extract_id_last4(None) is None
