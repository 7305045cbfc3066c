"""Round three of the thread (issue 21): figures said in words ("百分之十二", "月息一分", "六万一年"), how long
something is overdue said in months, "还完第6期" as paid through month 6, everyday servicing questions (the
repayment day on the customer's own disbursement day, a due day on a holiday, the agents' hours, a failed debit),
and detours: a code nobody asked for, a code that was never sent, a form given up for a question, and what
cancelling costs — each with the compliance checker over its answer."""
from __future__ import annotations

import pytest
import yaml

from credit.catalogue.loader import load_catalogue
from credit.catalogue.sections import RepaymentRules
from credit.compliance import check_text
from credit.dialogue import everyday, rules
from credit.dialogue.facts import disbursed_day, read_facts
from credit.dialogue.resolver import resolve
from credit.dialogue.state import ConversationState, Example
from credit.entities import extract_all
from harness.paths import ROOT

CAT = load_catalogue()
EMPTY = ConversationState()


@pytest.mark.parametrize("text, figure, unit", [
    ("4万块钱年化百分之十二分24个月每个月还多少", 12.0, "annual"),
    ("年化百分之七点二是最低吗", 7.2, "annual"),
    ("有个平台说月息才一分 比你们便宜吧", 1.0, "monthly"),
    ("人家那边一分五的利息", 1.5, "monthly"),
    ("一分钟就能到账吗", None, None),
])
def test_a_rate_said_in_words_is_read_with_its_unit(text, figure, unit):
    rate = read_facts(text).other_rate
    assert (rate.figure, rate.unit) == (figure, unit) if figure else rate is None


@pytest.mark.parametrize("text, amount, term", [
    ("借六万一年", 60000, 12), ("三万两年", 30000, 24), ("借三万三年利息多少", 30000, 36),
    ("五万十二期", 50000, 12), ("借一万五", 15000, None), ("借一万半年", 10000, 6),
])
def test_an_amount_followed_by_a_term_in_chinese_numerals_is_two_figures(text, amount, term):
    found = {s.entity: int(s.value) for s in extract_all(text) if s.entity in ("amount", "term")}
    assert found.get("amount") == amount and found.get("term") == term


@pytest.mark.parametrize("text, days", [
    ("那要是一个多月都没还上呢", 45), ("逾期了一个多月", 45), ("两个月还不上", 60), ("晚了一周", 7), ("5天没还", 5),
])
def test_how_long_it_is_overdue_is_read_in_days_and_not_as_a_term(text, days):
    facts = read_facts(text)
    assert facts.days_overdue == days and facts.term is None


def test_more_than_a_month_overdue_is_answered_with_the_credit_report():
    reading = resolve("那要是一个多月都没还上呢", "ask_overdue", ConversationState(topic="overdue"))
    assert reading.kind == "overdue_days"
    text = rules.overdue_days_answer(CAT, reading.facts.days_overdue, repaid=False).text
    assert "征信" in text and not check_text(text)


def test_periods_just_repaid_are_periods_not_a_term():
    facts = read_facts("我随心借才还两期 想先还一万进去 手续费多少钱")
    assert (facts.periods_repaid, facts.term, facts.prepay_amount) == (2, None, 10000)
    assert resolve("我随心借才还两期 想先还一万进去 手续费多少钱", "ask_prepayment", EMPTY).kind == "periods_fee"
    text = rules.periods_fee_answer(CAT, 2, "suixinjie", None, 10000).text
    assert "100" in text and not check_text(text)


def test_paid_through_month_n_settles_at_month_n_plus_one():
    facts = read_facts("还完第6期就全部结清的话 大概还要还多少")
    assert facts.payoff_month == 7
    example = Example(product="suixinjie", amount=12000, term=12, method="equal_installment", apr=0.12)
    text = rules.payoff_answer(CAT, example, facts.payoff_month).text
    assert "6,179" in text  # the principal left after six instalments of 1,066.19 at 1% a month
    assert read_facts("第8个月提前还清要多少").payoff_month == 8


@pytest.mark.parametrize("text, kind", [
    ("我是29号放的款 那每个月哪天还", "due_day"),
    ("每个月几号扣款", "due_day"),
    ("还款日赶上国庆放假 能晚几天还吗", "holiday_due"),
    ("过年放假也有人吗", "service_hours"),
    ("晚上几点还有人工", "service_hours"),
    ("今天扣款没成功 咋办", "debit_failed"),
    ("552211", "stray_code"),
    ("验证码是 552211", "stray_code"),
    ("验证码一直没收到", "otp_not_sent"),
])
def test_everyday_questions_and_stray_codes_get_their_own_reading(text, kind):
    assert resolve(text, None, EMPTY).kind == kind


def test_the_repayment_day_is_read_on_the_customers_disbursement_day():
    assert disbursed_day("我是29号放的款") == 29 and disbursed_day("三十一号到账的") == 31
    late, mid = everyday.due_day_answer(CAT, 30).text, everyday.due_day_answer(CAT, 15).text
    assert "每月还款日就是28号" in late and "每月还款日就是15号" in mid
    assert "不顺延" in everyday.holiday_due_answer(CAT).text
    assert "法定节假日照常服务" in everyday.service_hours_answer(CAT).text
    assert "主动还款" in everyday.debit_failed_answer(CAT).text
    for reply in (late, mid, everyday.holiday_due_answer(CAT).text, everyday.debit_failed_answer(CAT).text):
        assert not check_text(reply)


def test_the_catalogue_refuses_a_last_due_day_its_rule_does_not_name():
    raw = yaml.safe_load((ROOT / "credit" / "catalogue.yml").read_text(encoding="utf-8"))["repayment"]
    assert RepaymentRules.parse_obj(raw).last_due_day == 28
    with pytest.raises(ValueError, match="last_due_day"):
        RepaymentRules.parse_obj({**raw, "last_due_day": 27})


def test_a_code_nobody_asked_for_is_not_read_inside_a_form_that_asks_for_it():
    assert resolve("552211", "inform", EMPTY, "loan_form", "otp_code").kind != "stray_code"
    text = everyday.stray_code_answer("您的申请 SQ202611200001 目前是「审批中」。").text
    assert "不需要验证码" in text and "不要告诉任何人" in text and "审批中" in text


@pytest.mark.parametrize("text, form, slot, kind", [
    ("算了先不投了 问一下逾期罚息怎么收", "complaint_form", "complaint_detail", "stop_and_ask"),
    ("算了 不查了 你们利息多少", "progress_form", "application_id", "stop_and_ask"),
    ("撤了会扣钱吗", "loan_form", "id_last4", "after_cancel"),
    ("等下 取消以后还能再申请吗", "loan_form", "id_last4", "after_cancel"),
    ("我那个贷款批下来没有啊", "progress_form", "application_id", "none"),  # "没有" asks; nothing is lost
    ("没有", "progress_form", "application_id", "lost_application_id"),
])
def test_detours_inside_forms(text, form, slot, kind):
    assert resolve(text, None, EMPTY, form, slot).kind == kind


def test_cancelling_is_free_and_leaves_applying_again_open():
    text = everyday.cancel_terms_answer(CAT).text
    assert "不产生任何费用" in text and "重新申请" in text and not check_text(text)


def test_where_to_sign_after_a_progress_answer_is_the_next_step():
    after = ConversationState(topic="progress", verified_application="SQ202611210004")
    assert resolve("那去哪签", None, after).kind == "progress_next"


def test_a_figure_asked_for_is_no_request_for_a_definition():
    assert CAT.glossary.concepts_in("随心借跟信用卡分期比哪个划算 你先说下你们年化多少") == []
    assert [c.code for c in CAT.glossary.concepts_in("年化是什么意思")] == ["apr"]


def test_the_lenders_shorthand_for_a_daily_rate_is_converted():
    rate = read_facts("有个app给我日息万五 折算下来跟你们比哪个便宜").other_rate
    assert (rate.unit, round(rate.annual, 2)) == ("daily", 18.25)
    assert resolve("有个app给我日息万五 折算下来跟你们比哪个便宜", None, EMPTY).kind == "other_rate"


@pytest.mark.parametrize("text, days", [("还款日是15号 我18号还上的 算逾期吗", 3), ("15号该还的 拖到17号才还", 2)])
def test_a_due_day_and_the_day_paid_give_the_days_late(text, days):
    assert read_facts(text).days_overdue == days
    assert resolve(text, None, EMPTY).kind == "overdue_days"


def test_the_monthly_payment_asked_loosely_after_an_example_recomputes_it():
    example = Example(product="anjia", amount=80000, term=48, method="equal_installment")
    after = ConversationState(amount=80000, term=48, product="anjia", example=example, topic="rates")
    assert resolve("那每个月大概还多少", "ask_repayment", after).kind == "term_switch"


def test_a_question_about_which_number_is_answered_inside_the_form():
    assert resolve("编号是SQ开头那个吗", None, EMPTY, "progress_form", "application_id").kind == "id_format"
    assert "SQ开头" in everyday.id_format_answer().text


# ----------------------------------------------------------------- round four (the fourth frozen set's kinds)

@pytest.mark.parametrize("text, unit", [
    ("借三万 随心借 12期 年化按10%算 每月还多少钱", "annual"),  # the word before the figure wins over 每月 after
    ("我那笔年化18% 每个月还多少", "annual"), ("人家是6% 年化", "annual"), ("月息1.5%", "monthly"),
])
def test_a_rate_takes_the_unit_named_nearest_before_it(text, unit):
    assert read_facts(text).other_rate.unit == unit


@pytest.mark.parametrize("text, prepay, repaid, month", [
    ("周转贷借了4个月 现在想把20万全还了 要交多少手续费", 200000, 4, None),
    ("随心借才还了两期 想先提前还8000本金 手续费多少", 8000, 2, None),
    ("那我还满6期之后想一把还清 大概得还多少", None, 6, 7),  # paid through 6, the payoff at month 7
    ("借了3万 还了4期 提前还清要手续费吗", None, 4, None),
])
def test_the_principal_to_prepay_and_the_payoff_after_the_periods_repaid(text, prepay, repaid, month):
    facts = read_facts(text)
    assert (facts.prepay_amount, facts.periods_repaid, facts.payoff_month) == (prepay, repaid, month)


def test_the_business_loans_fee_on_the_whole_principal():
    text = rules.periods_fee_answer(CAT, 4, "zhouzhuan", None, 200000).text
    assert "4,000" in text and not check_text(text)


@pytest.mark.parametrize("text, topic, kind", [
    ("最高能罚到多少", "overdue", "penalty_cap"),
    ("随心借要抵押吗 要不要找担保人 我没房子", None, "collateral"),
    ("投诉了多久能给我处理结果", None, "complaint_time"),
    ("还清以后结清证明啥时候能申请", None, "certificate_delivery"),
    ("晓得了 莫得事了 就这样嘛", None, "closing"),
    ("还是等发了工资再看吧", None, "closing"),
    ("我传的身份证照片和银行卡信息 你们会不会拿去卖", None, "data_safety"),
    ("小微周转贷的先息后本是咋还的", None, "method_question"),
    ("我还没转钱 这种要不要报警", "fraud", "police"),
])
def test_round_four_readings(text, topic, kind):
    assert resolve(text, None, ConversationState(topic=topic)).kind == kind


def test_the_digits_unavailable_inside_a_form_end_it_quietly_with_the_way_back():
    assert resolve("身份证没带在身上 后四位记不清了", None, EMPTY, "progress_form", "id_last4").kind == "id_unavailable"
    assert "方便的时候" in everyday.id_unavailable_answer().text


def test_round_four_answers_state_the_catalogues_facts():
    cap = everyday.penalty_cap_answer(CAT).text
    assert "24%" in cap and "1.5倍" in cap
    assert "不用找担保人" in everyday.collateral_answer(CAT, "suixinjie").text
    assert "96110" in everyday.police_answer(CAT, paid=False).text
    assert "110" in everyday.police_answer(CAT, paid=True).text
    assert "结清次日即可申请" in everyday.certificate_delivery_answer(CAT, paper=False).text
    assert "6:00" in everyday.debit_failed_answer(CAT).text
    assert "最后一期" in asked_method("interest_only")
    eligibility = rules.product_topic_answer(CAT, "suixinjie", "eligibility").text
    assert "身份证" in eligibility and "借记卡" in eligibility
    burden = rules.affordability_answer(CAT, 8000, 50000, "suixinjie", 36, monthly_debt=3500).text
    assert "加上现有每月3,500元还款" in burden and "偏大" in burden
    for text in (cap, everyday.collateral_answer(CAT, None).text, everyday.police_answer(CAT, False).text, burden):
        assert not check_text(text)


def asked_method(code: str) -> str:
    from credit.dialogue import asked
    return asked.method_answer(CAT, code, "zhouzhuan").text


@pytest.mark.parametrize("text", ["知道了你们乱扣费", "用不上了，帮我取消", "知道了，我下个月还不上"])
def test_an_acknowledgement_with_a_request_after_it_is_no_closing(text):
    assert resolve(text, None, EMPTY).kind != "closing"


def test_a_prepayment_cost_question_inside_the_loan_form_is_never_told_free():
    text = asked_service_fee("prepay_calc")
    assert "1%" in text and "2%" in text and "不收取任何费用" not in text and not check_text(text)


def test_penalty_interest_runs_from_the_day_after_the_due_day_once_past_the_grace_period():
    assert "从还款日次日起" in rules.overdue_days_answer(CAT, 12, repaid=False).text
    assert "从还款日次日起" in everyday.holiday_due_answer(CAT).text


def asked_service_fee(operation: str) -> str:
    from credit.dialogue import asked
    return asked.service_fee_answer(CAT, operation).text


@pytest.mark.parametrize("text, days", [("还款日15号 我13号还上的 算逾期吗", 0), ("28号该还 拖到3号才还", 6)])
def test_a_day_paid_before_the_due_day_is_no_lateness_unless_it_was_the_next_month(text, days):
    assert read_facts(text).days_overdue == days


def test_days_late_said_without_their_unit_are_no_age():
    assert read_facts("逾期已经20了 会怎么样").age is None
    assert read_facts("我今年58了 还能借吗").age == 58


@pytest.mark.parametrize("text, kind", [("过年能提前还款吗", "holiday_due"), ("纸质合同在哪", "certificate_delivery")])
def test_a_question_that_only_shares_a_word_with_an_everyday_answer_does_not_get_it(text, kind):
    assert resolve(text, None, EMPTY).kind != kind


def test_a_payment_before_the_due_day_is_told_it_was_on_time():
    text = rules.overdue_days_answer(CAT, 0, repaid=True).text
    assert "不算逾期" in text and "0天" not in text and check_text(text) == []
