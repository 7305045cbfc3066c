"""One normaliser for every identifier a customer types, and the cleaners for stored text."""

from __future__ import annotations

import pytest

from credit.errors import InvalidInput
from credit.policy import MAX_TEXT_CHARS
from credit.text.inputs import (
    APPLICATION_ID,
    ID_LAST4,
    OTP_CODE,
    TICKET_NUMBER,
    IdentifierFormat,
    code,
    free_text,
    sender,
)


@pytest.mark.parametrize(
    ("fmt", "raw", "expected"),
    [
        (APPLICATION_ID, "ｓｑ 2026-1120-0001", "SQ202611200001"),
        (ID_LAST4, "１２３ｘ", "123X"),
        (OTP_CODE, "１２３ ４５６", "123456"),
        (OTP_CODE, "12345", None),
        (TICKET_NUMBER, " tk2026_1121_0007 ", "TK202611210007"),
        (TICKET_NUMBER, "TK2026112100", None),
        (APPLICATION_ID, "SQ202611200001" + " " * 60, None),  # too long before any work
        (ID_LAST4, 1234, None),
    ],
)
def test_one_normaliser_for_every_identifier(fmt: IdentifierFormat, raw: object, expected: str | None) -> None:
    assert fmt.normalise(raw) == expected


def test_require_names_the_expected_shape() -> None:
    assert TICKET_NUMBER.require("tk202611210007") == "TK202611210007"
    with pytest.raises(InvalidInput, match="TK加12位数字"):
        TICKET_NUMBER.require("TK1")
    with pytest.raises(InvalidInput, match="SQ加12位数字"):
        APPLICATION_ID.require(None)


def test_cleaners() -> None:
    assert sender("  rest:a ") == "rest:a"
    with pytest.raises(InvalidInput):
        sender("a\x00b")
    assert code(" Collection ", "问题分类") == "collection"
    with pytest.raises(InvalidInput, match="问题分类无效"):
        code("催收", "问题分类")
    assert free_text(None, "x") == ""
    assert free_text("电话13912345678\x00", "x") == "电话139****5678"
    assert len(free_text("长" * (MAX_TEXT_CHARS * 5), "x")) == MAX_TEXT_CHARS
