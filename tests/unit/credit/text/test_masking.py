"""PII masking of text and log records."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.text.masking import (
    BANK_CARD,
    ID_NUMBER,
    MOBILE,
    OTP,
    PiiMaskingFilter,
    find_pii,
    install_log_masking,
    mask_pii,
    uninstall_log_masking,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证110105199003071234", "身份证110***********1234"),
        ("身份证 11010519900307123X。", "身份证 110***********123X。"),
        ("手机13812345678", "手机138****5678"),
        ("手机 +86 138-1234-5678", "手机 +86 138****5678"),
        ("手机 138 1234 5678", "手机 138****5678"),
        ("卡号6222021234567890", "卡号6222 **** **** 7890"),
        ("卡号 6222021234567890123", "卡号 6222 **** **** 0123"),
        ("卡号 6222 0212 3456 7890 123", "卡号 6222 **** **** 0123"),
        ("卡号 6222-0212-3456-7890", "卡号 6222 **** **** 7890"),
        ("您的验证码是 482913，5分钟内有效", "您的验证码是 ******，5分钟内有效"),
        ("验证码:482913", "验证码:******"),
        # full-width digits typed with a Chinese IME
        ("手机１３８１２３４５６７８", "手机138****5678"),
        ("身份证１１０１０５１９９００３０７１２３Ｘ", "身份证110***********123X"),
    ],
)
def test_mask_pii(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "客服热线 400-820-8820，服务时间 9:00–21:00",
        "申请编号 SQ202401150001 正在审批中",
        "借款 20000 元，分 12 期，每期 1,776.98 元",
        "身份证后4位 1234，手机尾号 5678",
        "2024-01-15 放款",
        "",
    ],
)
def test_non_personal_data_is_untouched(text: str) -> None:
    assert mask_pii(text) == text
    assert find_pii(text) == []


def test_find_pii_kinds() -> None:
    text = "身份证110105199003071234 手机13812345678 卡6222021234567890 验证码 123456"
    assert [m.kind for m in find_pii(text)] == [ID_NUMBER, MOBILE, BANK_CARD, OTP]


def test_eighteen_digits_without_birth_date_is_a_card() -> None:
    (match,) = find_pii("卡号 622202123456789012")
    assert match.kind == BANK_CARD


def test_mask_is_idempotent() -> None:
    once = mask_pii("手机13812345678，卡6222021234567890")
    assert mask_pii(once) == once


# --- logging ------------------------------------------------------------------


@pytest.fixture
def root_stream():
    """A fresh handler on the root logger; restores logging afterwards."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    factory = logging.getLogRecordFactory()
    yield stream
    uninstall_log_masking()
    logging.setLogRecordFactory(factory)
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_filter_masks_message_and_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "user %s card %s", ("13812345678", "6222021234567890"), None)
    assert PiiMaskingFilter().filter(record) is True
    assert record.getMessage() == "user 138****5678 card 6222 **** **** 7890"


def test_filter_masks_exception_text() -> None:
    try:
        raise ValueError("bad id 110105199003071234")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    PiiMaskingFilter().filter(record)
    assert "110***********1234" in record.exc_text
    assert "110105199003071234" not in record.exc_text


def test_install_masks_existing_root_handlers(root_stream) -> None:
    install_log_masking()
    logging.getLogger("credit.test").info("手机 %s 验证码 %s", "13812345678", "654321")
    assert root_stream.getvalue().strip() == "手机 138****5678 验证码 ******"


def test_install_masks_handlers_added_later(root_stream) -> None:
    install_log_masking()
    late_stream = io.StringIO()
    late = logging.StreamHandler(late_stream)
    logger = logging.getLogger("credit.late")
    logger.addHandler(late)
    logger.propagate = False
    try:
        logger.warning("身份证 %s", "110105199003071234")
    finally:
        logger.removeHandler(late)
        logger.propagate = True
    assert late_stream.getvalue().strip() == "身份证 110***********1234"


def test_install_is_idempotent_and_uninstallable(root_stream) -> None:
    install_log_masking()
    factory = logging.getLogRecordFactory()
    install_log_masking()
    assert logging.getLogRecordFactory() is factory
    handler = logging.getLogger().handlers[-1]
    assert sum(isinstance(f, PiiMaskingFilter) for f in handler.filters) == 1
    uninstall_log_masking()
    assert not any(isinstance(f, PiiMaskingFilter) for f in handler.filters)
    logging.getLogger("credit.test").info("手机 %s", "13812345678")
    assert "13812345678" in root_stream.getvalue()


def test_bad_format_args_do_not_raise(root_stream) -> None:
    install_log_masking()
    logging.getLogger("credit.test").info("only one %s", "13812345678", "extra")
    assert "13812345678" not in root_stream.getvalue()
    assert "138****5678" in root_stream.getvalue()


# --- properties ------------------------------------------------------------------

noise = st.text(alphabet="您好借款元期号码卡 -:，。abcSQ0123456789", max_size=60)


@settings(max_examples=300, deadline=None)
@given(noise)
def test_masked_text_has_no_pii_left(text: str) -> None:
    masked = mask_pii(text)
    assert find_pii(masked) == []
    assert mask_pii(masked) == masked
