"""Need discovery and ticket look-up, whole conversations over REST on a running stack."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from credit.catalogue.loader import load_catalogue
from credit.compliance import PRIVACY_NOTICE, check_text

pytestmark = pytest.mark.slow
NEEDS = load_catalogue().needs


def _ok(reply: str) -> str:
    assert check_text(reply) == [], reply
    return reply


def test_need_discovery_asks_purpose_amount_income_then_matches_the_product(stack, sender):
    opening = _ok(stack.texts(sender, "想借点钱 有什么产品推荐"))
    assert NEEDS.ask_purpose in opening and "安家分期" not in opening  # no product before the need
    assert NEEDS.ask_amount in _ok(stack.texts(sender, "装修用"))
    asked_income = _ok(stack.texts(sender, "借10万 分24期"))
    assert PRIVACY_NOTICE in asked_income and NEEDS.ask_income in asked_income  # the notice comes first
    assert asked_income.index(PRIVACY_NOTICE) < asked_income.index(NEEDS.ask_income)
    assert NEEDS.ask_debt in _ok(stack.texts(sender, "月收入一万左右"))
    advice = _ok(stack.texts(sender, "每个月还房贷三千"))
    assert "安家分期" in advice and "随心借" not in advice
    assert "装修合同" in advice and "房产证明" in advice  # that product's own materials
    assert "借10万元、分24期" in advice  # the amount stayed the loan, not the income
    assert "不代表审批结果" in advice and "超过了一半" in advice


def test_income_is_not_read_as_a_loan_amount_and_every_question_can_be_skipped(stack, sender):
    stack.texts(sender, "哪个产品适合我")
    stack.texts(sender, "做生意周转用")
    stack.texts(sender, "跳过")  # amount and term
    asked = stack.texts(sender, "跳过")
    assert NEEDS.ask_income in asked
    advice = _ok(stack.texts(sender, "不方便说"))
    assert "小微周转贷" in advice and "营业执照" in advice and "举例" in advice
    assert NEEDS.ask_debt not in advice  # no income: the debts are not asked


def test_a_question_inside_need_discovery_is_answered_and_the_flow_resumes(stack, sender):
    stack.texts(sender, "想贷款装修 有什么产品")
    reply = stack.texts(sender, "提前还款要手续费吗")
    assert "提前还款" in reply and NEEDS.ask_amount in reply  # answered, then the open question again


def test_purpose_out_of_the_blue_starts_discovery_and_stop_words_end_it(stack, sender):
    assert NEEDS.ask_amount in stack.texts(sender, "装修用")  # the purpose is kept: amount comes next
    ended = stack.texts(sender, "算了不借了")
    assert "安家分期" not in ended and "年化" not in ended


def test_conditions_question_lists_every_products_extra_materials(stack, sender):
    reply = _ok(stack.texts(sender, "申请需要准备什么材料"))
    assert "身份证" in reply and "装修合同" in reply and "营业执照" in reply


def _ticket_number(reply: str) -> str:
    match = re.search(r"TK\d{12}", reply)
    assert match, reply
    return match.group(0)


def _complain(stack, sender: str) -> str:
    assert "手机号" in stack.texts(sender, "我要投诉你们客服态度太差了，打电话问还款还挂我电话")
    return _ticket_number(stack.texts(sender, "13812345678"))


def test_my_ticket_is_read_back_in_the_same_conversation(stack, sender):
    number = _complain(stack, sender)
    reply = _ok(stack.texts(sender, "我投诉的处理得怎么样了"))
    assert number in reply and "正在处理中" in reply and "前给您答复" in reply


def test_ticket_from_another_conversation_only_after_the_check_digits(stack, sender):
    number = _complain(stack, sender)
    other = sender + "-wx"
    asked = stack.texts(other, f"帮我查下工单{number}")
    assert "后四位" in asked and "态度" not in asked  # nothing of the ticket before the check
    failed = stack.texts(other, "0000")
    unknown = stack.texts(other + "2", "帮我查下工单TK209901010001")
    failed_unknown = stack.texts(other + "2", "0000")
    assert failed == failed_unknown  # an unknown number and wrong digits read the same
    shown = _ok(stack.texts(other, "5678"))
    assert number in shown and "服务态度" in shown
    engine = create_engine(stack.db_url())
    with engine.connect() as conn:
        granted = conn.execute(text("SELECT COUNT(*) FROM verifications WHERE sender_id = :s AND level = 'ticket'"),
                               {"s": stack.rest_id(other)}).scalar_one()
    assert granted == 1
    assert "后四位" in unknown


def test_pressing_again_is_answered_calmly_and_recorded_for_the_risk_team(stack, sender):
    from credit.catalogue.loader import load_catalogue as catalogue

    pressing = catalogue().risk_signals.pressing
    stack.texts(sender, "急用钱 今天能下来吗")
    second = _ok(stack.texts(sender, "我真的很急 到底什么时候能批"))
    assert pressing.reply in second and pressing.question in second
    engine = create_engine(stack.db_url())
    with engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text("SELECT kind FROM risk_events WHERE sender_id = :s ORDER BY id"),
                                            {"s": stack.rest_id(sender)})]
    assert kinds == ["urgent_need", "repeated_pressing"]
