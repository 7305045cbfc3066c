"""Whole conversations through the REST channel of a running server (model + action server + SQLite)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from credit.compliance import check_text

pytestmark = pytest.mark.slow


def _sms_code(stack, phone_suffix: str) -> str:
    engine = create_engine(stack.db_url())
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT phone, text FROM sms_outbox ORDER BY id DESC")).fetchall()
    for phone, body in rows:
        if phone.endswith(phone_suffix):
            return re.search(r"\d{6}", body).group(0)
    raise AssertionError("no SMS in the outbox")


def _rows(stack, sql: str, **params):
    engine = create_engine(stack.db_url())
    with engine.connect() as conn:
        return conn.execute(text(sql), params).fetchall()


def _responses(name: str) -> list[str]:
    from pathlib import Path

    import yaml
    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain" / "responses.yml").read_text("utf-8"))
    return [v["text"] for v in data["responses"][name]]


DOMAIN_ASK_APPLICATION_ID = _responses("utter_ask_application_id")


def _assert_compliant(reply: str) -> None:
    assert check_text(reply) == [], reply


def test_rate_question_answers_with_annualised_rate_and_disclaimer(stack, sender):
    reply = stack.texts(sender, "你们的贷款利息多少")
    assert "年化利率" in reply
    assert "以审批结果为准" in reply
    assert "7.2%" in reply and "23.9%" in reply  # from the catalogue, not vague
    _assert_compliant(reply)


def test_rate_question_with_figures_gives_worked_monthly_payment(stack, sender):
    reply = stack.texts(sender, "借1万分12期利息多少")
    assert "年化利率" in reply
    assert "借1万元、分12期" in reply
    # 10,000 at 7.2% for 12 months, equal instalments: 866.19 a month (1.006^12 = 1.074424)
    assert "每月还866.19 元" in reply
    _assert_compliant(reply)


def test_fee_question_lists_every_fee(stack, sender):
    reply = stack.texts(sender, "收不收手续费")
    assert "提前还款手续费" in reply and "1%" in reply and "2%" in reply  # 随心借, 小微周转贷
    assert "罚息" in reply and "放款前都不收取任何费用" in reply
    _assert_compliant(reply)


def test_slow_complaint_gets_apology_and_offer_to_check_progress(stack, sender):
    reply = stack.texts(sender, "你们审批太慢了，等了三天了！")
    assert "抱歉" in reply
    assert "进度" in reply
    _assert_compliant(reply)
    # accepting the offer starts the progress check, asking only for the number
    assert stack.texts(sender, "好的") in DOMAIN_ASK_APPLICATION_ID


def test_progress_check_with_right_digits_reports_under_review(stack, sender):
    assert "申请编号" in stack.texts(sender, "帮我查一下申请进度")
    assert "身份证" in stack.texts(sender, "SQ202611200001")
    reply = stack.texts(sender, "1234")
    assert "审批中" in reply
    assert "下一步" in reply and "预计" in reply
    _assert_compliant(reply)


def test_wrong_digits_reveal_nothing_and_match_unknown_number(stack, sender):
    stack.texts(sender, "查进度")
    stack.texts(sender, "SQ202611200001")
    wrong = stack.texts(sender, "9999")
    assert "审批中" not in wrong and "随心借" not in wrong
    assert "未通过" in wrong  # 核对未通过 — but nothing about the application itself

    other = sender + "-x"
    stack.texts(other, "查进度")
    stack.texts(other, "SQ209912319999")  # does not exist
    unknown = stack.texts(other, "9999")
    # same failure words whether or not the number exists (the re-ask after it may vary)
    assert unknown.splitlines()[0] == wrong.splitlines()[0]


def test_three_failures_lock_the_sender_and_offer_a_human(stack, sender):
    stack.texts(sender, "查进度")
    stack.texts(sender, "SQ202611150003")
    stack.texts(sender, "1111")
    stack.texts(sender, "2222")
    reply = stack.texts(sender, "3333")
    assert "锁定" in reply and "人工" in reply
    # even the right digits are refused while locked
    stack.texts(sender, "查进度")
    stack.texts(sender, "SQ202611150003")
    assert "锁定" in stack.texts(sender, "4321")


def test_loan_details_need_an_sms_code(stack, sender):
    stack.texts(sender, "提前还款要手续费吗")
    reply = stack.texts(sender, "好的")
    assert "申请编号" in reply
    stack.texts(sender, "SQ202611180002")
    sent = stack.texts(sender, "5678")
    assert "验证码" in sent and "5678" in sent  # sent to the phone ending 5678
    assert "13800005678" not in sent
    assert "不正确" in stack.texts(sender, "000000")
    code = _sms_code(stack, "5678")
    reply = stack.texts(sender, code)
    assert "剩余本金" in reply and "手续费" in reply
    _assert_compliant(reply)


def test_complaint_creates_a_ticket_row(stack, sender):
    reply = stack.texts(sender, "我要投诉你们客服态度太差了，打电话还挂我电话")
    assert "抱歉" in reply
    assert "手机号" in reply
    reply = stack.texts(sender, "13912345678")
    number = re.search(r"TK\d+", reply).group(0)
    assert "13912345678" not in reply
    rows = _rows(stack, "SELECT kind, contact, detail FROM tickets WHERE number = :n", n=number)
    assert rows and rows[0][0] == "complaint"
    assert "13912345678" not in rows[0][1]  # stored masked


def test_second_complaint_escalates_to_a_human(stack, sender):
    stack.rest(sender, "等了三天还没批，太慢了")
    messages = stack.rest(sender, "你们就是坑人，垃圾平台")
    handoff = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    assert handoff and handoff[0]["type"] == "handoff" and handoff[0]["summary"]
    assert _rows(stack, "SELECT queue FROM handoffs WHERE sender_id = :s", s=stack.rest_id(sender))


def test_fraud_report_warns_and_records_a_risk_event(stack, sender):
    reply = stack.texts(sender, "有人打电话说我要先交解冻费才能放款，是你们吗")
    assert "不会收取" in reply and "110" in reply
    assert _rows(stack, "SELECT kind FROM risk_events WHERE sender_id = :s", s=stack.rest_id(sender))


def test_urgent_need_gets_no_shortcut_and_a_risk_event(stack, sender):
    reply = stack.texts(sender, "急用钱，利息高点没关系，快点给我批")
    assert "没有加急" in reply and "时间上您可以放心" in reply  # reassured about the timing
    assert "骗局" not in reply  # no fraud lecture to a customer who raised none
    _assert_compliant(reply)
    assert _rows(stack, "SELECT kind FROM risk_events WHERE sender_id = :s AND kind = 'urgent_need'",
                 s=stack.rest_id(sender))


def test_request_human_sends_channel_neutral_handoff_payload(stack, sender):
    messages = stack.rest(sender, "转人工客服")
    custom = [m["custom"] for m in messages if "custom" in m]
    assert custom == [{"type": "handoff", "queue": "general", "summary": custom[0]["summary"],
                       "agents_available": custom[0]["agents_available"]}]
    assert isinstance(custom[0]["agents_available"], bool)  # follows the agents' hours (test_office_hours.py)


@pytest.mark.parametrize("hostile", [
    "' OR 1=1 --", "<script>alert(1)</script>", "😡" * 200, "SQ" + "9" * 200, "x" * 3999, "\u0000\u202e",
])
def test_hostile_input_in_progress_form_gets_a_clear_reply(stack, sender, hostile):
    stack.texts(sender, "查进度")
    reply = stack.rest(sender, hostile)
    assert reply and all("Traceback" not in m.get("text", "") for m in reply), "never silence, never a trace"
    assert len(stack.user_turns(stack.rest_id(sender))) == 2  # the hostile turn is recorded, nothing lost
    # the conversation survives: the check still works afterwards
    if not stack.tracker(stack.rest_id(sender)).get("active_loop", {}).get("name"):
        stack.texts(sender, "查进度")
    stack.texts(sender, "SQ202611200001")
    assert "审批中" in stack.texts(sender, "1234")


def test_oversized_message_gets_a_clear_400_and_the_conversation_goes_on(stack, sender):
    import urllib.error

    stack.texts(sender, "查进度")
    with pytest.raises(urllib.error.HTTPError) as info:
        stack.rest(sender, "x" * 5000)
    assert info.value.code == 400 and "4000" in info.value.read().decode()
    stack.texts(sender, "SQ202611200001")
    assert "审批中" in stack.texts(sender, "1234")


def test_every_turn_is_in_the_tracker(stack, sender):
    for message in ("你好", "利息多少", "谢谢"):
        stack.rest(sender, message)
    turns = [e["text"] for e in stack.user_turns(stack.rest_id(sender))]
    assert turns == ["你好", "利息多少", "谢谢"]


def _verify_with_sms(stack, sender: str, app_id: str, last4: str) -> str:
    assert "身份证" in stack.texts(sender, app_id)
    sent = stack.texts(sender, last4)
    assert "验证码已发送至尾号" in sent
    suffix = re.search(r"尾号(\d{4})", sent).group(1)
    return stack.texts(sender, _sms_code(stack, suffix))


def test_cancel_a_pending_application_after_sms_check(stack, sender):
    intro = stack.texts(sender, "我不想借了，帮我取消申请")
    assert "短信验证" in intro and "申请编号" in intro
    reply = _verify_with_sms(stack, sender, "SQ202611210004", "8765")
    assert "取消" in reply
    assert _rows(stack, "SELECT stage FROM applications WHERE application_id = 'SQ202611210004'")[0][0] == "cancelled"


def test_settlement_certificate_for_a_repaid_loan(stack, sender):
    stack.texts(sender, "我要开结清证明")
    reply = _verify_with_sms(stack, sender, "SQ202604200005", "246x")
    number = re.search(r"TK\d+", reply).group(0)
    assert _rows(stack, "SELECT kind FROM tickets WHERE number = :n", n=number)[0][0] == "settlement_certificate"


def test_overdue_question_states_consequences_and_offers_negotiation(stack, sender):
    reply = stack.texts(sender, "这个月实在还不上了，会怎么样")
    assert "罚息" in reply and "征信" in reply and "协商" in reply
    _assert_compliant(reply)
    ticket = stack.texts(sender, "好的")
    assert re.search(r"TK\d+", ticket) and "48小时" in ticket


# --- other lenders' products (entity other_lender) and suggestions -----------------------------------

def _first_reply(stack, sender: str, text: str) -> str:
    """The reply to a conversation's first message, without the privacy notice that opens every session."""
    reply = stack.texts(sender, text)
    return reply.split("\n", 1)[1] if reply.startswith("隐私提示") else reply


def test_other_lender_limit_question_gets_not_us_then_our_limit_answer(stack, sender):
    reply = _first_reply(stack, sender, "借呗额度怎么提")
    assert reply.startswith("借呗不是我们的产品") and "看不到也改不了借呗" in reply
    assert "关于额度" in reply and "提额" in reply  # then ours
    _assert_compliant(reply)


def test_traditional_text_names_the_lender_too(stack, sender):
    reply = _first_reply(stack, sender, "京東金條的額度怎麼提")
    assert reply.startswith("京东金条不是我们的产品") and "关于额度" in reply


def test_are_you_another_lender_gets_a_clear_no(stack, sender):
    reply = _first_reply(stack, sender, "你们是微粒贷吗")
    assert reply.startswith("我们不是微粒贷") and "安信消费金融" in reply
    _assert_compliant(reply)


def test_progress_question_about_another_lender_gives_our_timing_then_asks_for_ours(stack, sender):
    reply = _first_reply(stack, sender, "借呗几分钟就到账 你们一般多久")
    assert reply.startswith("借呗不是我们的产品") and "申请编号" in reply
    _assert_compliant(reply)


def test_suggestion_is_thanked_and_recorded_not_apologised_for(stack, sender):
    reply = _first_reply(stack, sender, "建议App加个还款提醒")
    assert reply.startswith("谢谢您的建议") and "还款提醒" in reply
    assert "抱歉" not in reply and "投诉" not in reply
    _assert_compliant(reply)
    rows = _rows(stack, "SELECT kind, detail FROM tickets WHERE sender_id = :s", s=stack.rest_id(sender))
    assert [(kind, "还款提醒" in detail) for kind, detail in rows] == [("suggestion", True)]


# --- complaints: restated, the register button opens the ticket, no call-back without a number ---------

def test_complaint_is_restated_before_anything_is_done(stack, sender):
    reply = stack.texts(sender, "我要投诉，你们催收一天打十几个电话骚扰我")
    assert "我先跟您确认一下" in reply and "催收方式" in reply and "一天打十几个电话" in reply
    assert "手机号" in reply  # then the form asks how to reach the customer
    _assert_compliant(reply)


def test_the_register_button_after_a_slow_complaint_opens_a_ticket(stack, sender):
    stack.texts(sender, "等了三天还没批，太慢了")
    messages = stack.rest(sender, "/complain")  # the "我要登记投诉" button
    reply = "\n".join(m.get("text", "") for m in messages)
    assert not [m for m in messages if isinstance(m.get("custom"), dict)]  # not a second complaint: no hand-off
    assert "登记投诉" in reply and "审批放款太慢" in reply and "手机号" in reply
    ticket = stack.texts(sender, "13912345678")
    number = re.search(r"TK\d+", ticket).group(0)
    assert _rows(stack, "SELECT kind, category FROM tickets WHERE number = :n", n=number)[0] == ("complaint", "slow")


def test_no_call_back_is_promised_without_a_number(stack, sender):
    stack.texts(sender, "我要投诉你们客服态度太差了，说话很不耐烦")
    reply = stack.texts(sender, "不用打电话")
    assert re.search(r"TK\d+", reply) and "联系您" not in reply and "凭工单号" in reply


def test_many_lenders_is_answered_honestly_and_recorded_for_the_risk_team(stack, sender):
    reply = stack.texts(sender, "我在好几个平台都借过钱，还能批吗")
    assert "不会被一口回绝" in reply and "每个月加起来大概要还多少" in reply
    assert "抱歉" not in reply  # not mistaken for a complaint
    _assert_compliant(reply)
    rows = _rows(stack, "SELECT kind, text FROM risk_events WHERE sender_id = :s", s=stack.rest_id(sender))
    assert [r[0] for r in rows] == ["many_lenders"] and "好几个平台" in rows[0][1]


def test_repayment_methods_are_compared_not_the_generic_rate_block(stack, sender):
    reply = stack.texts(sender, "借5万分24期的话，等额本息和等额本金哪个利息少")
    assert "借5万元、分24期" in reply and "总利息最少的是等额本金" in reply
    assert reply.count("年化利率(单利)") <= 2
    _assert_compliant(reply)


def test_annualised_rate_is_explained(stack, sender):
    reply = stack.texts(sender, "年化利率是什么意思啊")
    assert "一年的全部成本" in reply and "乘以365" in reply


def test_an_objection_is_answered_on_its_point_not_with_the_same_block(stack, sender):
    first = stack.texts(sender, "借5万分12期利息多少")
    second = stack.texts(sender, "太贵了吧，别家才3%")
    assert second != first and "折成年化大约是36%" in second
    assert "期限拉长到24期" in second and "总利息" in second  # their own figures, remembered
    _assert_compliant(second)


def test_the_same_question_twice_gets_a_short_different_answer(stack, sender):
    first = stack.texts(sender, "额度怎么提升")
    second = stack.texts(sender, "额度怎么提升")
    assert second != first and len(second) < len(first) / 2


def test_a_verified_customer_gets_the_payoff_of_their_own_loan(stack, sender):
    stack.texts(sender, "我要开结清证明")
    assert "未还本金" in _verify_with_sms(stack, sender, "SQ202611180002", "5678")
    reply = stack.texts(sender, "那我提前全部还清要还多少钱")
    assert "今天需还合计" in reply and "SQ202611180002" in reply  # their loan, no generic rules
    assert "申请编号" not in reply.replace("SQ202611180002", "")
