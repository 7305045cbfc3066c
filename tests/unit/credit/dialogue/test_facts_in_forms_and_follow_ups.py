"""Round two of the thread (issue 21): facts read in their role (age, the principal to prepay, "一个月" as "per
month"), questions inside the complaint and loan forms, the next step after a progress answer, and the answers
they get — with the compliance checker over each answer."""
from __future__ import annotations

import pytest

from credit.answers.repeats import RECAP_LEAD, recap
from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.dialogue import asked, rules, trust
from credit.dialogue.facts import read_facts
from credit.dialogue.resolver import resolve
from credit.dialogue.state import ConversationState

CAT = load_catalogue()
AFTER_PROGRESS = ConversationState(topic="progress", verified_application="SQ202611210004")


@pytest.mark.parametrize("text, age", [
    ("我都56岁了还能贷吗", 56), ("今年五十九了 符合条件不", 59), ("年纪45 能申请吗", 45),
    ("借5万分12期", None), ("我儿子18岁", 18), ("30岁以下才能借吗", None),
])
def test_the_customers_age_is_read_and_nothing_else_is(text, age):
    assert read_facts(text).age == age


def test_an_age_with_an_eligibility_question_gets_each_products_range():
    assert resolve("我今年57了 能借吗", "ask_eligibility", ConversationState()).kind == "age"
    text = rules.age_answer(CAT, 57).text
    assert "随心借：要求22–55周岁，年龄暂不符合" in text and "安家分期：要求22–60周岁，年龄符合" in text
    assert "综合审批" in text and not check_text(text)
    too_old = rules.age_answer(CAT, 66).text
    assert "都还不满足" in too_old and "年龄符合" not in too_old.replace("年龄暂不符合", "")


@pytest.mark.parametrize("text, prepay, amount", [
    ("还剩8000块想提前还掉 手续费多少", 8000, 8000),
    ("我想先还2万 要收费吗", 20000, 20000),
    ("借了3万 还了1期 提前还清要手续费吗", None, 30000),  # the loan's amount is not the principal prepaid
])
def test_the_principal_to_prepay_is_told_from_the_loan_amount(text, prepay, amount):
    facts = read_facts(text)
    assert (facts.prepay_amount, facts.amount) == (prepay, amount)


def test_the_fee_on_the_principal_to_prepay_is_computed():
    text = rules.periods_fee_answer(CAT, 1, "suixinjie", prepay=8000).text
    assert "提前还8000元的手续费是80.00 元" in text.replace(",", "") or "手续费是80.00 元" in text
    free = rules.periods_fee_answer(CAT, 4, "suixinjie", prepay=8000).text
    assert "免手续费" in free and "手续费是" not in free
    business = rules.periods_fee_answer(CAT, 2, "zhouzhuan", prepay=40000).text
    assert "手续费是800.00 元" in business and not check_text(business)


@pytest.mark.parametrize("text", ["一个月大概还多少", "1个月要还多少钱", "每个月得还多少"])
def test_a_month_said_to_ask_the_monthly_payment_is_no_term(text):
    assert read_facts(text).term is None


def test_a_real_term_in_months_is_still_read():
    assert read_facts("借2万分6个月").term == 6


def test_affordability_says_how_heavy_the_burden_is():
    heavy = rules.affordability_answer(CAT, 4000, 60000, "suixinjie", 12).text
    assert "偏大" in heavy and "压力" in heavy and "少借" in heavy
    light = rules.affordability_answer(CAT, 20000, 20000, "suixinjie", 12).text
    assert "压力相对可控" in light and "偏大" not in light
    for text in (heavy, light):
        assert "没法提前答复" in text and not check_text(text)  # advice on the burden, never on approval


@pytest.mark.parametrize("text, form, kind", [
    ("你们一般几天能处理完", "complaint_form", "complaint_time"),
    ("多久能给个说法", "complaint_form", "complaint_time"),
    ("多久能给个说法", None, None),                       # outside the form it is no detour
    ("开这个要钱不", "loan_form", "service_fee"),
    ("要交费用吗", "loan_form", "service_fee"),
])
def test_questions_inside_a_form_are_detours_the_form_comes_back_from(text, form, kind):
    reading = resolve(text, "complain", ConversationState(), form=form, requested_slot="contact_phone")
    assert (reading.kind if reading.kind in ("complaint_time", "service_fee") else None) == kind


def test_the_detour_answers_come_from_the_catalogue():
    sla = CAT.sla("complaint")
    text = asked.complaint_time_answer(CAT).text
    assert f"{sla.reply_hours}小时" in text and f"{sla.resolve_days}天" in text
    assert CAT.settlement_certificate.fee in asked.service_fee_answer(CAT, "settlement").text
    assert "不收取任何费用" in asked.service_fee_answer(CAT, "details").text


@pytest.mark.parametrize("text, kind", [
    ("然后呢 我要做什么", "progress_next"),
    ("接下来我该怎么办", "progress_next"),
    ("怎么还在审", "impatience"),
])
def test_after_a_progress_answer_the_next_step_is_about_that_application(text, kind):
    assert resolve(text, "check_progress", AFTER_PROGRESS).kind == kind
    assert resolve(text, "check_progress", ConversationState()).kind != "progress_next"


def test_the_next_step_answer_names_the_stage_and_what_to_do():
    stage = CAT.stage("pending_signature")
    text = trust.progress_next_answer(stage.name, stage.next_step, stage.expected_time).text
    assert stage.name in text and "签约" in text and "7 天" in text.replace("7天", "7 天")


@pytest.mark.parametrize("text, kind", [
    ("我爸是紧急联系人 你们会不会去催他", "third_party"),
    ("开个小超市 能先息后本不", "method_question"),
    ("好 我回去准备下材料 改天再来", "closing"),
])
def test_more_of_each_kind(text, kind):
    assert resolve(text, None, ConversationState(topic="eligibility")).kind == kind


def test_a_recap_keeps_the_point_the_question_names():
    block = ("额度说明：\n1. 额度由系统综合评估，客服无法人工调整\n2. 打开APP首页即可查看总额度和可用额度\n"
             "3. 循环额度按时还款后会恢复，可再次借款\n4. 按时还款满6期后系统会自动评估提额\n"
             "5. 出现逾期时额度可能被冻结，可在额度详情查看原因")
    again = recap(block, "额度冻结了怎么办")
    assert again is not None and again.splitlines()[0] == RECAP_LEAD and any("冻结" in ln for ln in again.splitlines())
    assert len(again.splitlines()) == 5 and again.splitlines()[1] == "额度说明："  # 3 points under their heading


def test_the_lowest_amount_comes_first_for_the_fitting_product():
    assert resolve("装修的话最少能借多少", "ask_loan_limit", ConversationState()).kind == "min_amount"
    one = rules.min_amount_answer(CAT, "anjia").text
    assert one.startswith("安家分期最少10,000元起借") and not check_text(one)
    each = rules.min_amount_answer(CAT, None).text
    assert all(f"{p.name}：{int(p.amount_min):,}元起借" in each for p in CAT.products)


def test_a_loan_that_has_run_some_months_counts_them_for_the_fee_rule():
    assert read_facts("经营贷借满8个月了 结清要手续费吗").periods_repaid == 8
