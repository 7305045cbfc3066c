"""credit.entities.extract_all over raw text: every entity at once, spans into the original text, hostile input."""

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
    parse_amount,
    parse_term,
)
from credit.text.product_match import ProductMatcher


def ents(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.value) for s in extract_all(text)]


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
