"""Compliance texts and the reply checker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.catalogue import format_apr_range, load_catalogue
from credit.compliance import (
    FRAUD_WARNING,
    PRIVACY_NOTICE,
    RATE_DISCLAIMER,
    RULE_PERIODIC_RATE_PROMINENT,
    RULE_PERSONAL_DATA,
    RULE_PROMISE,
    RULE_RATE_NOT_ANNUALISED,
    check_text,
    is_compliant,
)
from credit.masking import mask_pii


def rules(text: str) -> list[str]:
    return [v.rule for v in check_text(text)]


# --- texts ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [RATE_DISCLAIMER, FRAUD_WARNING, PRIVACY_NOTICE])
def test_own_texts_are_compliant(text: str) -> None:
    assert check_text(text) == []


def test_texts_say_what_they_must() -> None:
    assert "年化" in RATE_DISCLAIMER and "单利" in RATE_DISCLAIMER
    assert "审批" in RATE_DISCLAIMER and "全部费用" in RATE_DISCLAIMER
    assert "不会" in RATE_DISCLAIMER and "还款能力" in RATE_DISCLAIMER
    assert load_catalogue().hotline.number in FRAUD_WARNING
    assert "验证码" in FRAUD_WARNING
    assert "个人信息保护法" in PRIVACY_NOTICE


def test_rate_reply_with_disclaimer_is_compliant() -> None:
    product = load_catalogue().product("suixinjie")
    reply = f"{product.name}的利率为{format_apr_range(product)}。{RATE_DISCLAIMER}"
    assert is_compliant(reply)


# --- rule 1: promises ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我们保证通过", "保证您一定下款", "包过，放心申请", "百分百通过", "100%通过", "100％下款",
        "秒批秒到", "必过", "稳过", "提交后一定能批", "肯定能贷到", "全网最低利率", "利率最低",
        "零门槛申请", "无视征信", "黑户可贷", "黑户也能借", "不过我们秒批", "虽然不能保证，但包过",
        "免审核放款",
    ],
)
def test_promises_are_flagged(text: str) -> None:
    assert RULE_PROMISE in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "我们不保证审批通过，结果以综合评估为准",
        "无法保证100%通过",
        "我们不能保证一定能批",
        "不会承诺秒批",
        "绝不承诺包过",
        "凡是声称“包过”的都是诈骗",
        "凡是声称包过的都是骗子",
        "谨防无视征信的虚假宣传",
        "放款前不会收取保证金",
        "请提供保证人信息",
        "没有所谓的最低利率",
    ],
)
def test_negated_or_quoted_promises_pass(text: str) -> None:
    assert RULE_PROMISE not in rules(text)


# --- rule 2: rates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["随心借利率低至7.2%", "利息只要 0.5%", "费率 1.5% 起", "利率百分之十二", "罚息按 50% 上浮"],
)
def test_rate_without_annualised_form_is_flagged(text: str) -> None:
    assert RULE_RATE_NOT_ANNUALISED in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "日利率低至 0.02%，年化利率(单利) 7.2% 起",
        "日息万分之五",
        "月利率 1%",
        "月息 1 分，年化利率(单利) 12%",
    ],
)
def test_periodic_rate_before_annual_is_flagged(text: str) -> None:
    assert RULE_PERIODIC_RATE_PROMINENT in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "年化利率(单利) 7.2%–23.9%，折合日利率约 0.02%",
        "随心借：年化利率(单利) 7.2%–23.9%",
        "提前还款手续费为提前还款本金的 1%",
        "每月利息 100.00 元",
        "审批通过率很高",  # no percentage at all
        "本次借款年化利率 12%，利息按日计算",
    ],
)
def test_compliant_rate_texts_pass(text: str) -> None:
    assert {RULE_RATE_NOT_ANNUALISED, RULE_PERIODIC_RATE_PROMINENT}.isdisjoint(rules(text))


# --- rule 3: personal data ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "您的身份证号 110105199003071234 已验证",
        "身份证 11010519900307123X",
        "已发送到 13812345678",
        "尾号 6222021234567890 的银行卡",
        "卡号 6222 0212 3456 7890 123",
        "您的验证码是 123456",
    ],
)
def test_personal_data_is_flagged(text: str) -> None:
    violations = check_text(text)
    assert [v.rule for v in violations] == [RULE_PERSONAL_DATA]
    # the detail never repeats the raw value
    assert mask_pii(text) != text
    for v in violations:
        raw = text[v.span[0]:v.span[1]]
        assert raw not in v.detail


@pytest.mark.parametrize(
    "text",
    [
        "客服热线 400-820-8820",
        "申请编号 SQ202401150001",
        "身份证 110***********1234，手机 138****5678，卡 6222 **** **** 1234",
        "请提供身份证后4位",
    ],
)
def test_not_personal_data(text: str) -> None:
    assert check_text(text) == []


def test_violation_has_rule_and_detail() -> None:
    (v,) = check_text("包过")
    assert v.rule == RULE_PROMISE and "包过" in v.detail and v.span == (0, 2)


def test_empty_text() -> None:
    assert check_text("") == []


# --- properties ----------------------------------------------------------------------


def _check_digit(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11]


id_numbers = st.builds(
    lambda region, y, m, d, seq: (lambda body: body + _check_digit(body))(
        f"{region:06d}{y:04d}{m:02d}{d:02d}{seq:03d}"),
    st.integers(110000, 659999), st.integers(1940, 2010), st.integers(1, 12),
    st.integers(1, 28), st.integers(0, 999),
)
mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}",
                    st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
cards = st.integers(16, 19).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n - 1, max_size=n - 1).map(lambda s: "6" + s))
pii = st.one_of(id_numbers, mobiles, cards)
filler = st.text(alphabet="您好请核对借款信息，。：号卡手机 abc", max_size=12)


@settings(max_examples=300, deadline=None)
@given(before=filler, value=pii, after=filler)
def test_checker_flags_every_generated_id_mobile_and_card(before: str, value: str, after: str) -> None:
    assert RULE_PERSONAL_DATA in rules(before + value + after)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(filler, pii), max_size=6))
def test_checker_never_flags_masked_text(parts: list[str]) -> None:
    masked = mask_pii("".join(parts))
    assert check_text(masked) == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="您好借款元期号码卡 -:，。abcSQ0123456789", max_size=80))
def test_checker_never_flags_masked_noise(text: str) -> None:
    assert RULE_PERSONAL_DATA not in rules(mask_pii(text))
