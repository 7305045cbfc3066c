"""Compliance texts and the reply checker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.catalogue.loader import format_apr_range, load_catalogue
from credit.compliance import (
    FRAUD_WARNING,
    PRIVACY_NOTICE,
    PRIVACY_NOTICE_SHORT,
    RATE_DISCLAIMER,
    RULE_PERIODIC_RATE_PROMINENT,
    RULE_PERSONAL_DATA,
    RULE_PROMISE,
    RULE_RATE_NOT_ANNUALISED,
    check_text,
    is_compliant,
)
from credit.text.masking import mask_pii


def rules(text: str) -> list[str]:
    return [v.rule for v in check_text(text)]


# --- texts ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [RATE_DISCLAIMER, FRAUD_WARNING, PRIVACY_NOTICE, PRIVACY_NOTICE_SHORT])
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


# --- red lines added with the conversation issue: each fails on a bad text -------------------------

from credit.compliance import (  # noqa: E402 - grouped with the tests that use them
    RULE_FEE_CONTRADICTION,
    RULE_INDUCEMENT,
    RULE_OFFER_WITHOUT_TOTAL,
    RULE_THREAT,
)


@pytest.mark.parametrize("text", [
    "现在借越多越划算，额度用满最省。",
    "名额有限，赶紧借吧！",
    "这个优惠不借就没了，错过就没了。",
    "建议您多借点，反正利息不高。",
    "额度不用就浪费了，能借多少借多少。",
    "限时放款活动，先到先得，手慢无。",
])
def test_inducing_borrowing_is_refused(text: str) -> None:
    assert RULE_INDUCEMENT in rules(text)


@pytest.mark.parametrize("text", [
    "请按实际需要借款，不建议多借点备用。",
    "我们不会催您“赶紧借”，按需申请就好。",
    "请根据自身收入和还款能力合理借款。",
])
def test_advice_against_borrowing_more_is_allowed(text: str) -> None:
    assert RULE_INDUCEMENT not in rules(text)


@pytest.mark.parametrize("text", [
    "我们的贷款没有任何费用。",
    "提前还款免手续费，随时可以还。",
    "借款全程免费，零费用。",
    "逾期也没有罚息，放心借。",
])
def test_fee_statements_that_contradict_the_catalogue_are_refused(text: str) -> None:
    assert RULE_FEE_CONTRADICTION in rules(text)


@pytest.mark.parametrize("text", [
    "申请、审批和放款前都不收取任何费用。",
    "安家分期任何时候提前还款均免手续费。",
    "随心借按时还满 3 期后提前还款免手续费；不足 3 期的，按提前还款本金的 1% 收取手续费。",
    "放款前取消不产生任何费用。",
    "结清证明免费开具，不收任何费用。",
    "宽限期内还清不收罚息。",
])
def test_true_fee_statements_are_allowed(text: str) -> None:
    assert RULE_FEE_CONTRADICTION not in rules(text)


@pytest.mark.parametrize("text", [
    "再不还款我们就通知你的家人和单位。",
    "逾期不还就爆你通讯录，后果自负。",
    "我们会安排上门催收，让大家都知道你是老赖。",
    "欠钱不还要坐牢的。",
])
def test_threats_and_shaming_are_refused(text: str) -> None:
    assert RULE_THREAT in rules(text)


@pytest.mark.parametrize("text", [
    "我们只联系您本人，不会联系您的家人、同事或其他无关人员。",
    "逾期超过 30 天会报送征信，还清后如实更新为已结清。",
    "我们不会威胁、辱骂或冒充公检法，如遇此类情况请向我们投诉。",
])
def test_factual_overdue_texts_are_allowed(text: str) -> None:
    assert RULE_THREAT not in rules(text)


def test_an_alternative_offer_needs_its_total_interest() -> None:
    bad = "如果觉得压力大，也可以改成分24期，每月还约480元。"
    assert RULE_OFFER_WITHOUT_TOTAL in rules(bad)
    good = "如果觉得压力大，也可以改成分24期，每月还约480元，总利息约1,520元（比12期多）。"
    assert RULE_OFFER_WITHOUT_TOTAL not in rules(good)
