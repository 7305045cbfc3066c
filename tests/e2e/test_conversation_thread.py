"""Issue 21 end to end through REST: the thread of a conversation (credit/dialogue) — follow-ups, the customer's
own facts, a question answered before any discovery, detours inside forms, trust questions, closings, and one
reply that says each point once.  Every reply is also run through the compliance checker."""
from __future__ import annotations

import re

import pytest

from credit.compliance import check_text

pytestmark = pytest.mark.slow


def talk(stack, sender, *turns: str) -> list[str]:
    replies = []
    for turn in turns:
        reply = stack.texts(sender, turn)
        assert check_text(reply) == [], reply
        replies.append(reply)
    return replies


# --------------------------------------------------------------- follow-ups

def test_a_bare_product_after_the_prepayment_rules_gets_that_products_rule(stack, sender):
    *_, reply = talk(stack, sender, "提前还款是怎么规定的", "安家分期")
    assert "安家分期的提前还款" in reply and "免手续费" in reply
    assert "请问有什么可以帮您" not in reply  # not the greeting menu


def test_another_term_and_another_method_recompute_the_last_example(stack, sender):
    _, _, longer, method = talk(stack, sender, "利息怎么算", "借4万分12期", "那24期呢", "改成等额本金")
    assert "借4万元、分24期" in longer
    assert "借4万元、分24期、等额本金" in method and "首月还" in method


def test_yes_after_an_offer_to_calculate_calculates(stack, sender):
    _, accept, figures = talk(stack, sender, "你们利率怎么样", "行，帮我算算", "2万 6期")
    assert "想借多少、分几期" in accept and "暂时回答不了" not in accept
    assert "借2万元、分6期" in figures


def test_impatience_after_a_progress_answer_is_answered_not_asked_again(stack, sender):
    *_, reply = talk(stack, sender, "帮我查下审批进度", "SQ202611200001", "1234", "都一天了怎么还没好")
    assert "理解您着急" in reply and "审批中" in reply and "没有加急通道" in reply
    assert "申请编号" not in reply


def test_can_i_apply_again_after_a_decline(stack, sender):
    *_, reply = talk(stack, sender, "我的申请结果出来没", "SQ202611150003", "4321", "那我以后还能再申请吗")
    assert "30天后重新申请" in reply


# ------------------------------------------------------------ own facts

def test_days_overdue_within_the_grace_period(stack, sender):
    reply = stack.texts(sender, "我晚了两天才还上，这个会影响征信吗")
    assert "宽限期内" in reply and "不会作为逾期报送征信" in reply


def test_periods_repaid_are_read_as_repaid_not_as_the_term(stack, sender):
    reply = stack.texts(sender, "随心借借了3万，已经还了4期，现在提前还清要手续费吗")
    assert "还了4期" in reply and "随心借：免手续费" in reply
    assert "4期" not in reply.replace("还了4期", "")  # no 4-period example


def test_payoff_at_month_n_of_the_worked_example(stack, sender):
    _, reply = talk(stack, sender, "借6万分24期每个月还多少", "要是第10个月全部还清要多少钱")
    assert "借6万元、分24期" in reply and "第10个月" in reply and "剩余本金" in reply


def test_another_lenders_annual_rate_stays_annual(stack, sender):
    reply = stack.texts(sender, "你们太贵了，人家银行年化才5%")
    assert "年化5%" in reply and "折成年化" not in reply


def test_both_methods_on_the_customers_figures(stack, sender):
    reply = stack.texts(sender, "借5万12期，等额本息跟等额本金差多少")
    assert "借5万元、分12期" in reply and "等额本息" in reply and "等额本金" in reply and "相差" in reply


def test_affordability_from_income_and_amount_without_a_promise(stack, sender):
    reply = stack.texts(sender, "我一个月工资七千，想借6万，能批吗")
    assert "7,000元" in reply and "6万元" in reply and "约占收入" in reply and "没法提前答复" in reply


# ------------------------------------------------------- answer first

def test_the_longest_term_is_answered_before_any_discovery(stack, sender):
    reply = stack.texts(sender, "想借15万装修房子，最多能分几期")
    assert "安家分期最长可以分60期" in reply
    assert reply.index("60期") < (reply.find("用途") if "用途" in reply else len(reply))


def test_the_hotline_is_given_when_asked_for(stack, sender):
    reply = stack.texts(sender, "把你们客服电话发我一下")
    assert "400-820-8820" in reply


# -------------------------------------------------------- form detours

def test_a_forgotten_application_number_and_the_alternative_check(stack, sender):
    _, lost, found = talk(stack, sender, "查一下我的贷款进度", "编号我不记得了", "手机后四位5678，身份证后四位5678")
    assert "短信" in lost and "我的申请" in lost and "后4位" in lost and "格式不太对" not in lost
    assert "SQ202611180002" in found


def test_a_restated_complaint_inside_the_form_is_not_a_bad_phone_number(stack, sender):
    _, _, restated, done = talk(stack, sender, "我要投诉", "你们这破系统扣了我两次款，多扣了300元",
                                "我说的就是重复扣款这个事", "13912345678")
    assert "补充到投诉记录" in restated and "号码好像不对" not in restated
    assert "工单号" in done


# ------------------------------------------------------------- trust

def test_usury_question_gets_the_rates_and_the_legal_cap_not_a_ticket(stack, sender):
    reply = stack.texts(sender, "你们这个利息和放高利贷的有啥区别")
    assert "24%" in reply and "7.2%" in reply and "工单" not in reply


def test_nobody_is_contacted_but_the_borrower(stack, sender):
    reply = stack.texts(sender, "要是还不上，你们会不会找我爸妈")
    assert "只联系您本人" in reply


def test_a_true_credit_record_cannot_be_deleted(stack, sender):
    reply = stack.texts(sender, "有没有办法花点钱把征信上的逾期消掉")
    assert "无法删除" in reply and "骗局" in reply


def test_a_short_rate_complaint_gets_the_rate_and_the_ways_to_lower_it(stack, sender):
    reply = stack.texts(sender, "利息太高了")
    assert "年化利率(单利)" in reply and "少借" in reply and "请问有什么可以帮您" not in reply


# ----------------------------------------------------------- closings

@pytest.mark.parametrize("words", ["我再想想", "先这样吧，没事了", "那我再考虑考虑"])
def test_a_hesitation_gets_a_warm_close_not_a_cancellation(stack, sender, words):
    reply = stack.texts(sender, words)
    assert "随时回来找我" in reply and "400-820-8820" in reply
    assert "申请编号" not in reply and "取消" not in reply


def test_a_hesitation_inside_the_cancellation_form_closes_it(stack, sender):
    _, reply = talk(stack, sender, "我想取消借款", "算了我再想想")
    assert "随时回来找我" in reply and "格式不太对" not in reply


# ----------------------------------------------------------- one reply

def test_the_fraud_warning_says_each_point_once(stack, sender):
    reply = stack.texts(sender, "有人说交2000保证金就能放款，是你们的人吗")
    assert len(re.findall(r"(?<!96)110", reply)) == 1 and reply.count("400-820-8820") == 1  # 96110 is another line


def test_a_complaint_is_restated_neutrally(stack, sender):
    reply = stack.texts(sender, "我要投诉你们这帮垃圾，昨天乱扣了我500元")
    assert "垃圾" not in reply and "500元" in reply


# ------------------------------------------- the customer's own rate, short questions (issue 21, second pass)

def test_own_loan_at_the_stated_rate_then_another_term_and_the_principal_left(stack, sender):
    first, longer, left = talk(stack, sender, "我这笔是3万 年化10% 12期 等额本息，每期还多少",
                               "换成24期呢", "我已经还了4期了，还剩多少本金")
    assert "年化10%" in first and "2,637.48" in first
    assert "分24期" in longer and "年化10%" in longer and "想借多少" not in longer
    assert "25,405.57" in left  # 4 of the 24 periods


def test_both_methods_on_the_customers_rate(stack, sender):
    reply = stack.texts(sender, "3万 12期 年化10%，两种还款方式分别多少利息")
    assert "等额本息" in reply and "等额本金" in reply and "更省利息" in reply


def test_a_question_inside_the_need_form_is_answered_before_the_next_question(stack, sender):
    _, reply = talk(stack, sender, "我想借点钱", "最长可以分几期")
    assert "最长" in reply and "60期" in reply  # the terms first
    assert "?" in reply or "？" in reply or "呢" in reply  # and the form goes on


def test_the_grace_period_after_the_overdue_rules(stack, sender):
    *_, reply = talk(stack, sender, "逾期了有什么后果", "宽限期是几天")
    assert "3天" in reply and "不收罚息" in reply


# ------------------------------------------------- round three: everyday questions and detours (issue 21)

def test_a_code_nobody_asked_for_after_a_progress_answer(stack, sender):
    *_, code, impatient = talk(stack, sender, "查询进度 SQ202611200001", "1234", "552211", "怎么还在审啊")
    assert "不需要验证码" in code and "不要告诉任何人" in code and "审批中" in code
    assert "请问有什么可以帮您" not in code  # not the greeting: the thread goes on
    assert "理解您着急" in impatient and "申请编号" not in impatient


def test_a_greeting_that_asks_about_holiday_hours_gets_the_hours(stack, sender):
    reply = stack.texts(sender, "春节放假期间有人工吗")
    assert "法定节假日照常服务" in reply and "400-820-8820" in reply


def test_the_repayment_day_on_the_customers_disbursement_day(stack, sender):
    reply = stack.texts(sender, "我是30号到账的 以后每个月哪天扣款")
    assert "每月还款日就是28号" in reply and "不顺延" in reply


def test_a_complaint_given_up_for_a_question_answers_the_question_and_opens_no_ticket(stack, sender):
    _, stopped = talk(stack, sender, "我要投诉", "算了不投了 你就告诉我逾期罚息怎么算")
    assert "投诉先不登记" in stopped and "1.5倍" in stopped
    assert "工单号" not in stopped


def test_what_cancelling_costs_asked_inside_the_cancellation(stack, sender):
    _, asked, *_ = talk(stack, sender, "我要取消申请", "取消了以后还能再借吗")
    assert "不产生任何费用" in asked and "重新申请" in asked and "格式不太对" not in asked


def test_a_failed_debit_with_a_card_number_warns_and_answers(stack, sender):
    reply = stack.texts(sender, "卡号6222020000111122223 这个月自动扣款失败了怎么办")
    assert "6222020000111122223" not in reply and "主动还款" in reply


def test_a_bare_four_digit_code_after_the_number_is_checked_as_the_ids_last_four(stack, sender):
    _, wrong = talk(stack, sender, "查下我的借款", "SQ202610300006 3578")
    assert "信息核对未通过" in wrong and "还可尝试" in wrong  # checked at once, not asked for again first


# ------------------------------------------------- round four (issue 21)

def test_a_number_sent_with_the_wish_to_withdraw_it_starts_the_cancellation(stack, sender):
    _, checked = talk(stack, sender, "申请不要了 帮我撤掉 SQ202611210004", "8765")
    assert "验证码" in checked and "已为您查到申请" not in checked  # the strong check, not a progress answer


def test_giving_up_a_cancellation_keeps_the_application(stack, sender):
    *_, stopped = talk(stack, sender, "我要取消申请", "SQ202611210004", "算了 先不取消了 我再想想要不要签")
    assert "先不取消" in stopped and "保留" in stopped and "随时回来" in stopped


def test_the_penalty_cap_and_collateral_are_answered_from_the_catalogue(stack, sender):
    _, cap = talk(stack, sender, "逾期了怎么算罚息", "最多能罚到多少")
    assert "24%" in cap and "额度" not in cap
    collateral = stack.texts(sender + "-b", "小微周转贷要不要抵押房子 找不找担保人")
    assert "不需要抵押" in collateral and "担保人" in collateral


def test_what_to_do_when_nothing_was_paid_after_a_fraud_warning(stack, sender):
    _, police = talk(stack, sender, "有人冒充你们客服让我先交保证金", "我还没转钱 要不要报警")
    assert "96110" in police and "没转钱" in police
