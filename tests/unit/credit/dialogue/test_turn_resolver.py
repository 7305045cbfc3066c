"""One reading per turn against the topic and the last offer (credit/dialogue/resolver.py), per phenomenon."""
from __future__ import annotations

import pytest

from credit.dialogue.resolver import resolve
from credit.dialogue.state import ConversationState, Example

EXAMPLE = Example("suixinjie", 30000, 12, "equal_installment")
AFTER_RATES = ConversationState(topic="rates", offer="calc_example", example=EXAMPLE)
AFTER_PREPAY = ConversationState(topic="prepayment", offer="prepay_calc")
AFTER_PROGRESS = ConversationState(topic="progress", verified_application="SQ202611200001")
AFTER_DECLINE = ConversationState(topic="declined", verified_application="SQ202611200001")


@pytest.mark.parametrize("text, state, kind", [
    # follow-ups resolved against the topic and the offer
    ("安家分期", AFTER_PREPAY, "product_switch"),
    ("那36期呢", AFTER_RATES, "term_switch"),
    ("换成等额本金", AFTER_RATES, "method_switch"),
    ("行，帮我算算", AFTER_RATES, "accept_offer"),
    ("好的", AFTER_RATES, "accept_offer"),
    ("怎么还在审", AFTER_PROGRESS, "impatience"),
    ("那以后还能申请吗", AFTER_DECLINE, "reapply"),
    # the customer's own facts
    ("逾期两天，已经还上了，会上征信吗", ConversationState(), "overdue_days"),
    ("借了3万，已经还了4期，提前还要手续费吗", ConversationState(), "periods_fee"),
    ("第8个月提前还清要多少", AFTER_RATES, "payoff_month"),
    ("太贵了，别家年化才6%", ConversationState(), "other_rate"),
    ("等额本金和等额本息差多少", AFTER_RATES, "methods_compared"),
    ("工资六千，借八万能批吗", ConversationState(), "affordability"),
    # a question asked is answered first
    ("买车想借10万，最长能分多久", ConversationState(), "longest_term"),
    ("热线号码给我一个", ConversationState(), "hotline"),
    # trust, closings, detours
    ("你们这利息跟高利贷有什么区别", ConversationState(), "usury"),
    ("还不上会打给我家人吗", ConversationState(), "third_party"),
    ("能花钱把逾期记录删掉吗", ConversationState(), "credit_repair"),
    ("利息太高了", ConversationState(), "rate_complaint"),
    ("我再想想", AFTER_RATES, "closing"),
    ("先这样吧", ConversationState(), "closing"),
    ("没事了", ConversationState(), "closing"),
    ("申请号找不到了", ConversationState(), "lost_application_id"),
    # more trust questions, detours and questions answered first
    ("我交了2000保证金才发现被骗了", ConversationState(), "scammed"),
    ("你们是正规平台吗", ConversationState(), "legitimacy"),
    ("你们是不是骗子", ConversationState(), "legitimacy"),
    ("有人冒充你们客服让我先交500保证金", ConversationState(), "fraud_report"),
    ("会不会泄露我的个人信息", ConversationState(), "data_safety"),
    ("为什么要我身份证后四位", ConversationState(), "why_verify"),
    ("一般多久能到账", ConversationState(), "payout_time"),
    ("最多能借多少", ConversationState(), "max_amount"),
    ("我月收入1万，每月房贷3000，还能借多少", ConversationState(), "capacity"),
    ("那每个月还多少", AFTER_RATES, "term_switch"),
    ("为什么没通过", AFTER_DECLINE, "reapply"),
    ("稍等我找一下", ConversationState(), "wait"),
    ("我想借2万", ConversationState(), "figures"),
    ("算了不投诉了", ConversationState(), "closing"),
])

def test_reading(text, state, kind):
    assert resolve(text, None, state).kind == kind


def test_detours_that_only_exist_inside_a_form():
    otp = resolve("没收到验证码", "account_service", ConversationState(), form="loan_form", requested_slot="otp_code")
    assert otp.kind == "otp_missing"
    assert resolve("没收到验证码", "account_service", ConversationState()).kind != "otp_missing"
    assert resolve("还没申请呢", "deny", ConversationState(), form="progress_form",
                   requested_slot="application_id").kind == "not_applied"


def test_the_method_switched_to_is_the_one_read():
    from credit.dialogue.facts import method_named

    assert method_named("从等额本息换成等额本金") == "equal_principal"
    assert method_named("那换成24期呢") is None


def test_follow_ups_need_their_topic():
    # without a progress answer before it, "怎么还在审" is a progress question, not impatience
    assert resolve("怎么还在审", "check_progress", ConversationState()).kind == "none"
    # without an offer, "好的" accepts nothing
    assert resolve("好的", "affirm", ConversationState()).kind == "none"
    # a term with no example before it is not a switch: the example on that term
    assert resolve("那36期呢", "inform", ConversationState()).kind == "figures"
    # a bare product with no rules answer before it is not a switch
    assert resolve("安家分期", "inform", ConversationState()).kind == "none"


def test_a_hesitation_with_a_question_is_not_a_close():
    assert resolve("我再想想，利息多少", None, ConversationState()).kind != "closing"
    assert resolve("不用了谢谢，再说吧", None, ConversationState()).kind in ("closing", "none")


def test_forgotten_number_inside_the_progress_form():
    reading = resolve("不记得了", "deny", ConversationState(), form="progress_form", requested_slot="application_id")
    assert reading.kind == "lost_application_id"
    assert resolve("SQ202611200001", "inform", ConversationState(), form="progress_form",
                   requested_slot="application_id").kind == "none"


def test_the_state_after_the_turn_keeps_earlier_facts():
    before = ConversationState(amount=50000, term=24)
    reading = resolve("安家分期的利息呢", "ask_interest_rate", before)
    assert (reading.state.amount, reading.state.term, reading.state.product) == (50000, 24, "anjia")


def test_buttons_and_empty_text_have_no_reading():
    assert resolve("/affirm", "affirm", AFTER_RATES).kind == "none"
    assert resolve("", None, AFTER_RATES).kind == "none"
