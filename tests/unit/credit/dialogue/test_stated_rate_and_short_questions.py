"""The customer's own loan at the rate they stated (credit/dialogue/stated.py), the short questions answered from the
catalogue (asked.py), and the readings that lead to them (resolver.py): figures, content, compliance."""
from __future__ import annotations

import pytest

from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.dialogue import asked, stated
from credit.dialogue.facts import read_facts
from credit.dialogue.resolver import resolve
from credit.dialogue.state import ConversationState, Example

CAT = load_catalogue()
OWN = Example("suixinjie", 30000, 12, "equal_installment", apr="0.10")


def kind(text: str, **state) -> str:
    return resolve(text, None, ConversationState(**state)).kind


# ------------------------------------------------------------------ facts

def test_an_own_rate_is_told_apart_from_another_lenders():
    own = read_facts("我这笔贷款3万块 年化10% 分12个月")
    assert own.own_rate and own.other_rate is not None and own.other_rate.annual == 10
    assert own.amount == 30000 and own.term == 12  # "3万 年化" is an amount, not "3万年"
    other = read_facts("人家平台年化才8%")
    assert not other.own_rate


def test_lender_wording_of_a_monthly_rate_in_fen():
    rate = read_facts("那边说月息一分五").other_rate
    assert rate is not None and rate.unit == "monthly" and rate.figure == 1.5 and rate.annual == 18


def test_first_instalment_is_not_a_term_and_interest_first_is_a_method():
    assert read_facts("按等额本金第一个月要交多少").term is None
    assert read_facts("可以先光还利息吗").method == "interest_only"


def test_a_late_day_count_without_the_word_overdue():
    assert read_facts("晚两天会怎样").days_overdue == 2


# ------------------------------------------------------------------ readings

@pytest.mark.parametrize("text, state, expected", [
    ("借3万 年化10% 分12期 月供是多少", {}, "stated_example"),
    ("5万 年化8% 24期，两种方式分别多少利息", {}, "stated_methods"),
    ("我合同是年化18%，逾期的话罚息多少", {}, "stated_penalty"),
    ("剩下的本金还有多少", {"example": OWN, "periods_repaid": 4}, "remaining"),
    ("有没有宽限期", {}, "grace"),
    ("最短能借几个月", {}, "shortest_term"),
    ("最低借多少起", {}, "min_amount"),
    ("你们有哪些贷款产品", {}, "products"),
    ("我没有房本怎么办", {"product": "anjia"}, "documents"),
    ("可以选先息后本吗", {"product": "suixinjie"}, "method_question"),
    ("帮我算一下", {"amount": 30000, "term": 12}, "calc"),
    ("利率最低多少", {"topic": "rates"}, "lowest_rate"),
    ("电话老是占线", {"topic": "handoff"}, "channels"),
    ("哪种省钱", {"topic": "methods"}, "methods_compared"),
])
def test_readings(text, state, expected):
    assert kind(text, **state) == expected


def test_a_product_after_a_terms_answer_keeps_the_topic():
    assert kind("小微周转贷", topic="terms") == "product_switch"


# ------------------------------------------------------------------ answers

def test_the_example_at_the_stated_rate():
    text = stated.example_answer(CAT, OWN, income=8000).text
    assert "年化10%" in text and "2,637.48" in text and "8,000" in text and "审批" in text


def test_both_methods_at_the_stated_rate_name_the_cheaper():
    text = stated.methods_answer(CAT, OWN).text
    assert "等额本息" in text and "等额本金" in text and "1,625" in text  # equal principal's interest
    assert "更省利息" in text


def test_principal_left_after_the_periods_repaid():
    text = stated.remaining_answer(CAT, OWN, 4).text
    assert "还满4期" in text and "20,330.03" in text
    assert "几期" in stated.remaining_answer(CAT, OWN, None).text


def test_payoff_of_the_stated_loan_uses_its_rate():
    text = stated.payoff_answer(CAT, OWN, 6).text
    assert "第6个月" in text and "年化10%" in text and "免手续费" in text


def test_penalty_on_the_contract_rate_is_capped():
    capped = stated.penalty_answer(CAT, read_facts("合同年化22%").other_rate).text
    assert "24%" in capped and "不会到33%" in capped
    plain = stated.penalty_answer(CAT, read_facts("合同年化10%").other_rate).text
    assert "罚息年化是15%" in plain


def test_the_short_answers():
    assert "3天" in asked.grace_answer(CAT).text
    assert "最短3期" in asked.shortest_term_answer(CAT, "suixinjie").text
    lowest = asked.lowest_rate_answer(CAT, "suixinjie").text
    assert "7.2%" in lowest and "没法提前承诺" in lowest
    assert all(p.name in asked.products_answer(CAT).text for p in CAT.products)
    lacking = asked.documents_answer(CAT, "没有营业执照").text
    assert "小微周转贷需要" in lacking and "随心借" in lacking
    assert "满 1 年" in asked.documents_answer(CAT, "执照刚办半年能借吗").text
    assert "暂不支持等额本金" in asked.method_answer(CAT, "equal_principal", "anjia").text
    assert "小微周转贷" in asked.method_answer(CAT, "interest_only", None).text
    assert "在线客服" in asked.channels_answer(CAT).text


def test_every_new_answer_passes_the_compliance_checker():
    replies = [stated.example_answer(CAT, OWN, 6000), stated.methods_answer(CAT, OWN),
               stated.remaining_answer(CAT, OWN, 3), stated.payoff_answer(CAT, OWN, 5),
               stated.penalty_answer(CAT, read_facts("合同年化20%").other_rate),
               asked.grace_answer(CAT), asked.shortest_term_answer(CAT, None), asked.lowest_rate_answer(CAT, None),
               asked.products_answer(CAT), asked.documents_answer(CAT, "没有房产证"),
               asked.method_answer(CAT, "equal_principal", None), asked.channels_answer(CAT)]
    for reply in replies:
        assert reply is not None
        assert check_text(reply.text) == [], reply.text


def test_chat_replies_write_a_short_figure_next_to_its_word():
    from credit.replies import compact
    assert compact("还满 2 期后，按本金的 1% 收取") == "还满2期后，按本金的1%收取"
    assert compact("每月还500.00 元") == "每月还500.00 元"  # yuan amounts as formatted
    assert compact("拨打 400-820-8820") == "拨打 400-820-8820" and compact("编号 SQ202611200001 审批中").count(" ") == 2


@pytest.mark.parametrize("text, state, expected", [
    ("催收的人会不会上门骂人", {}, "third_party"),
    ("借了以后会不会天天打电话给我", {}, "third_party"),
    ("你们会把我的资料卖掉吗", {}, "data_safety"),
    ("这利率和抢钱有什么两样", {}, "usury"),
    ("利息之外还有没有别的费用", {}, "all_fees"),
    ("卡号6222000011112222333 怎么扣了两次", {}, "full_number"),
    ("我回去跟家里商量商量", {}, "closing"),
    ("行 那我等消息", {}, "closing"),
    ("身份证尾号是X的怎么输", {}, "x_digit"),
    ("贷款借了七个多月了，现在结清收手续费吗", {"product": "zhouzhuan"}, "periods_fee"),
    ("年化9 借5万 24期 月供多少", {}, "stated_example"),
    ("热线一直占线", {}, "channels"),
    ("安家分期有什么要求", {}, "product_eligibility"),
    ("小微周转贷的额度范围", {}, "max_amount"),
    ("好 那我先准备一下材料再说", {}, "closing"),
])
def test_more_readings(text, state, expected):
    assert kind(text, **state) == expected


def test_the_fee_answer_hides_nothing_and_the_full_number_answer_asks_for_the_last_four_only():
    fees = asked.all_fees_answer(CAT).text
    assert "没有隐藏费用" in fees and "提前还款手续费" in fees and "罚息" in fees
    assert check_text(fees) == []
    warning = asked.full_number_answer().text
    assert "不要" in warning and "后四位" in warning and check_text(warning) == []


def test_asking_again_about_the_example_just_shown_recaps_it():
    from credit.dialogue import rules
    text = rules.example_recap(CAT, OWN).text
    assert "总利息" in text and "年化10%" in text and check_text(text) == []


def test_another_key_asked_for_inside_the_progress_form_gets_the_alternative():
    reading = resolve("拿手机号可以查吗", None, ConversationState(), form="progress_form",
                      requested_slot="application_id")
    assert reading.kind == "lost_application_id"


def test_a_question_asked_again_gets_its_key_points_not_the_whole_block():
    from credit.answers.repeats import RECAP_LEAD, recap
    block = "规则是这样的：\n1. 第一条规则写得足够长一些才算数\n2. 第二条规则写得足够长一些才算数\n" \
            "3. 第三条规则写得足够长一些才算数\n4. 第四条规则写得足够长一些才算数\n5. 第五条规则写得足够长热线也在这里"
    again = recap(block, "到底是什么规则？")  # "规则" is in every point: the leading points
    # the leading points under their heading (which scopes them: "不收罚息" under "有3天宽限期：")
    assert again is not None and again.splitlines() == [RECAP_LEAD, *block.splitlines()[0:4]]
    assert recap(block, "好的知道了") is None
    hotline = recap(block, "热线到底多少？")  # the point the question names comes back, in its place
    assert hotline is not None and hotline.splitlines()[-1].startswith("5.") and len(hotline.splitlines()) == 5
