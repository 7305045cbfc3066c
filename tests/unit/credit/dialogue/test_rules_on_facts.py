"""The catalogue's rules on the customer's facts, and the trust answers (credit/dialogue/rules.py, trust.py):
content, and the compliance checker over every one of them."""
from __future__ import annotations

import pytest

from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.dialogue import rules, trust
from credit.dialogue.facts import stated_rate
from credit.dialogue.state import ConversationState, Example

CAT = load_catalogue()
EXAMPLE = Example("suixinjie", 30000, 12, "equal_installment")


def test_overdue_days_within_the_grace_period():
    text = rules.overdue_days_answer(CAT, 2, repaid=True).text
    assert "宽限期内" in text and "不会" in text and "征信" in text


def test_overdue_days_past_the_grace_period_and_the_reporting_threshold():
    assert "罚息" in rules.overdue_days_answer(CAT, 10, repaid=False).text
    assert "不会报送征信" in rules.overdue_days_answer(CAT, 10, repaid=False).text
    assert "报送人行征信" in rules.overdue_days_answer(CAT, 45, repaid=False).text


def test_periods_repaid_against_each_products_fee_rule():
    text = rules.periods_fee_answer(CAT, 4, None).text
    assert "随心借：免手续费" in text  # 3 periods free
    assert "小微周转贷：还要按提前还款本金的2%" in text  # 6 months
    assert "安家分期：免手续费" in text
    assert "1%" in rules.periods_fee_answer(CAT, 2, "suixinjie").text


def test_payoff_at_month_n_of_the_worked_example():
    text = rules.payoff_answer(CAT, EXAMPLE, 8).text
    assert "第8个月" in text and "剩余本金" in text and "合计约" in text
    assert "最后一期" in rules.payoff_answer(CAT, EXAMPLE, 12).text


def test_another_lenders_annual_rate_stays_annual():
    text = rules.other_rate_answer(CAT, stated_rate("别家年化才6%"), None).text
    assert "年化6%" in text and "72" not in text
    monthly = rules.other_rate_answer(CAT, stated_rate("别家月息1.5%"), None).text
    assert "18%" in monthly


def test_both_methods_on_the_customers_figures():
    text = rules.methods_compared_answer(CAT, EXAMPLE).text
    assert "等额本息" in text and "等额本金" in text and "3万元" in text and "相差" in text


def test_switching_the_examples_term_or_method():
    state = ConversationState(example=EXAMPLE)
    switched = rules.example_for(CAT, state, term=36)
    assert switched == Example("suixinjie", 30000, 36, "equal_installment")
    assert "分36期" in rules.example_answer(CAT, switched).text
    assert rules.example_for(CAT, state, method="equal_principal").method == "equal_principal"
    assert rules.example_for(CAT, state, term=7) is None  # not a term of the product


def test_affordability_is_advice_never_a_promise():
    text = rules.affordability_answer(CAT, 6000, 80000, None, None).text
    assert "6,000元" in text and "8万元" in text and "没法提前答复" in text


def test_longest_term_names_the_terms():
    assert "36期" in rules.longest_term_answer(CAT, "suixinjie", 100000).text
    assert "60期" in rules.longest_term_answer(CAT, None, None).text


def test_capacity_is_advice_from_income_and_debts():
    text = rules.capacity_answer(CAT, 10000, 3000, None).text
    assert "2,000.00 元以内" in text and "没法提前答复" in text
    assert "不建议再增加借款" in rules.capacity_answer(CAT, 6000, 4000, None).text


def test_periods_repaid_with_the_customers_figures_gives_the_payoff():
    text = rules.periods_fee_answer(CAT, 4, "suixinjie", EXAMPLE).text
    assert "还满4期后一次结清" in text and "剩余本金约" in text


def test_trust_answers():
    assert "24%" in trust.usury_answer(CAT).text
    assert "只联系您本人" in trust.third_party_answer(CAT).text
    repair = trust.credit_repair_answer(CAT).text
    assert "无法删除" in repair and "骗局" in repair
    assert CAT.hotline.number in trust.closing_answer(CAT).text
    lost = trust.lost_application_id_answer().text
    assert "短信" in lost and "我的申请" in lost and "后4位" in lost


def test_a_complaint_is_paraphrased_not_quoted():
    text = trust.complaint_paraphrase("fee", "你们这破公司乱扣我300元，13812345678 打我电话")
    assert "破" not in text and "13812345678" not in text and "收费和扣款" in text and "300元" in text
    assert trust.complaint_paraphrase(None, "") == ""


def _all_replies():
    rate = stated_rate("别家月息1.5%")
    yield rules.overdue_days_answer(CAT, 2, True)
    yield rules.overdue_days_answer(CAT, 12, False)
    yield rules.overdue_days_answer(CAT, 40, False)
    for periods in (0, 2, 4, 7):
        yield rules.periods_fee_answer(CAT, periods, None)
    for product in CAT.products:
        ex = rules.example_for(CAT, ConversationState(product=product.code, amount=50000, term=12))
        assert ex is not None
        yield rules.example_answer(CAT, ex)
        for month in (1, 2, 5, 8, 11):
            yield rules.payoff_answer(CAT, ex, month)
        yield rules.longest_term_answer(CAT, product.code, 50000)
        yield rules.rate_complaint_answer(CAT, product.code)
        yield rules.other_rate_answer(CAT, rate, product.code)
    yield rules.methods_compared_answer(CAT, EXAMPLE)
    yield rules.affordability_answer(CAT, 6000, 80000, None, None)
    yield rules.rate_complaint_answer(CAT, None)
    for text in ("别家年化才6%", "别家才8%", "花呗日利率0.05%"):
        yield rules.other_rate_answer(CAT, stated_rate(text), None)
    yield trust.usury_answer(CAT)
    yield trust.third_party_answer(CAT)
    yield trust.credit_repair_answer(CAT)
    yield trust.closing_answer(CAT)
    yield trust.hotline_answer(CAT)
    yield trust.lost_application_id_answer()
    yield trust.impatience_answer("审批中", "1个工作日内", True)
    yield trust.reapply_answer(CAT)
    yield trust.scammed_answer(CAT)
    yield trust.legitimacy_answer(CAT)
    yield trust.data_safety_answer(CAT)
    yield trust.why_verify_answer()
    yield trust.not_applied_answer()
    yield trust.wait_answer()
    yield trust.otp_resent_answer("5678")
    yield rules.capacity_answer(CAT, 10000, 3000, None)
    yield rules.capacity_answer(CAT, 6000, 4000, None)
    yield rules.payout_time_answer(CAT, None)
    yield rules.max_amount_answer(CAT, None)
    yield rules.periods_fee_answer(CAT, 4, "suixinjie", EXAMPLE)
    for product in CAT.products:
        for topic in ("prepayment", "eligibility", "limit", "repayment"):
            answer = rules.product_topic_answer(CAT, product.code, topic)
            assert answer is not None
            yield answer


@pytest.mark.parametrize("reply", list(_all_replies()), ids=lambda r: r.text[:12])
def test_every_reply_passes_the_compliance_checker(reply):
    assert check_text(reply.text) == []
