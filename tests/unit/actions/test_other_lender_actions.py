"""Actions with an other_lender entity: the not-us line first, then our own answer; identity questions."""
from __future__ import annotations

from actions.loan_ops import ActionPrepareLoanOp
from actions.other_lenders import ActionAskProgressApplicationId, ActionOutOfScope
from actions.prepayment import ActionPrepaymentInfo
from actions.rates import ActionQuoteRate
from actions.topics import ActionAnswerTopic
from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.replies import compact
from tests.unit.actions.action_kit import all_text, make_tracker, run

CAT = load_catalogue()


def lender(value: str, start: int = 0) -> dict:
    return {"entity": "other_lender", "value": value, "start": start, "end": start + len(value)}


def test_limit_question_about_another_lender_gets_not_us_then_our_limits(svc):
    tracker = make_tracker(text="借呗额度怎么提", intent="ask_loan_limit", entities=[lender("借呗")])
    text = all_text(run(ActionAnswerTopic(), tracker)[0])
    assert text.startswith("借呗不是我们的产品") and "看不到也改不了借呗" in text
    assert compact(CAT.limits.increase) in text and check_text(text) == []


def test_topic_without_a_lender_has_no_not_us_line(svc):
    text = all_text(run(ActionAnswerTopic(), make_tracker(text="额度怎么提", intent="ask_loan_limit"))[0])
    assert "不是我们的产品" not in text and text.startswith("关于额度")


def test_rate_comparison_gets_not_us_then_our_rates_and_voice_is_short(svc):
    entities = [lender("借呗")]
    text = all_text(run(ActionQuoteRate(), make_tracker(text="借呗的利息都比你们低", intent="ask_interest_rate",
                                                         entities=entities))[0])
    assert text.startswith("借呗不是我们的产品") and "年化利率" in text and check_text(text) == []
    voice = all_text(run(ActionQuoteRate(), make_tracker(sender="tel:c1", text="借呗的利息都比你们低",
                                                          intent="ask_interest_rate", entities=entities))[0])
    assert voice.startswith("我们不是借呗") and "\n" not in voice and len(voice) < len(text)


def test_prepayment_question_names_the_lender_once(svc):
    text = all_text(run(ActionPrepaymentInfo(), make_tracker(
        text="微粒贷提前还不收费 你们收不收", intent="ask_prepayment", entities=[lender("微粒贷")]))[0])
    assert text.startswith("微粒贷不是我们的产品") and "提前还款" in text and check_text(text) == []


def test_cancel_with_a_lender_says_not_us_before_our_own_check(svc):
    messages, _ = run(ActionPrepareLoanOp(), make_tracker(text="借呗可以关 你们额度能关吗", intent="cancel_loan",
                                                          entities=[lender("借呗")]))
    text = all_text(messages)
    assert text.startswith("借呗不是我们的产品") and "核实身份" in text


def test_identity_question_gets_a_clear_no(svc):
    messages, _ = run(ActionOutOfScope(), make_tracker(text="你们是微粒贷吗", intent="out_of_scope",
                                                       entities=[lender("微粒贷", 3)]))
    text = all_text(messages)
    assert text.startswith("我们不是微粒贷") and CAT.company in text and check_text(text) == []


def test_out_of_scope_without_a_lender_keeps_the_menu(svc):
    messages, _ = run(ActionOutOfScope(), make_tracker(text="今天天气怎么样", intent="out_of_scope"))
    assert [m.get("response") for m in messages] == ["utter_out_of_scope"]


def test_progress_question_about_another_lender_gives_our_timing_then_asks_for_ours(svc):
    tracker = make_tracker(text="借呗几分钟就到账 你们一般多久", intent="check_progress",
                           entities=[lender("借呗")], active_loop="progress_form",
                           slots={"requested_slot": "application_id"})  # set by the validation action
    tracker.events.append({"event": "active_loop", "name": "progress_form"})  # started by this message
    messages, _ = run(ActionAskProgressApplicationId(), tracker)
    assert messages[0]["text"].startswith("借呗不是我们的产品") and "申请编号" in messages[0]["text"]
    assert messages[-1]["response"] == "utter_ask_application_id"
    started = make_tracker(text="查进度", intent="check_progress")
    started.events.append({"event": "active_loop", "name": "progress_form"})
    plain = run(ActionAskProgressApplicationId(), started)[0]
    assert [m.get("response") for m in plain] == ["utter_ask_application_id"]
    again = make_tracker(text="借呗", intent="inform", entities=[lender("借呗")],
                         slots={"requested_slot": "application_id"})
    assert [m.get("response") for m in run(ActionAskProgressApplicationId(), again)[0]] == [
        "utter_ask_application_id"]
