"""Issue 22: when two intents are close the fallback asks "您是想问 A 还是 B？" (one button each); when nothing
was confident it offers the likeliest topics; the clicked button is answered from the clarified question."""
from __future__ import annotations

from actions.common import INTENT_LABELS
from actions.dialogue import ActionFallback
from actions.rates import ActionQuoteRate
from actions.topics import ActionAnswerTopic
from credit.answers.clarify import ambiguous_pair, fallback_reply
from credit.compliance import check_text
from tests.unit.actions.action_kit import all_text, make_tracker, run

THRESHOLD = 0.3  # what FallbackClassifier writes as nlu_fallback's confidence

AMBIGUOUS = [{"name": "nlu_fallback", "confidence": THRESHOLD}, {"name": "ask_overdue", "confidence": 0.46},
             {"name": "ask_repayment", "confidence": 0.43}, {"name": "greet", "confidence": 0.05}]
LOW = [{"name": "nlu_fallback", "confidence": THRESHOLD}, {"name": "ask_prepayment", "confidence": 0.22},
       {"name": "ask_repayment", "confidence": 0.2}, {"name": "greet", "confidence": 0.1}]


def test_close_intents_are_offered_as_a_question_with_one_button_each(svc):
    messages, _ = run(ActionFallback(), make_tracker(text="这期能不能晚几天扣", intent="nlu_fallback",
                                                     ranking=AMBIGUOUS))
    reply = messages[0]
    assert reply["text"].startswith("您是想问「逾期与协商还款」还是「还款问题」？")
    assert [b["payload"] for b in reply["buttons"]] == ["/ask_overdue", "/ask_repayment", "/request_human"]
    assert [b["title"] for b in reply["buttons"]][:2] == ["逾期与协商还款", "还款问题"]
    assert check_text(reply["text"]) == []


def test_low_confidence_keeps_the_likeliest_topics_menu(svc):
    messages, _ = run(ActionFallback(), make_tracker(text="那个钱咋弄", intent="nlu_fallback", ranking=LOW))
    assert "您是想问" not in messages[0]["text"] and "没完全理解" in messages[0]["text"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["提前还款", "还款问题", "都不是，转人工"]
    assert check_text(messages[0]["text"]) == []


def test_the_reason_is_read_off_the_ranking_at_any_threshold():
    at_half = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "complain", "confidence": 0.48},
               {"name": "ask_interest_rate", "confidence": 0.45}]
    assert ambiguous_pair(at_half, INTENT_LABELS) is None  # top under 0.5: low confidence, not ambiguity
    at_half[1]["confidence"] = 0.5
    assert ambiguous_pair(at_half, INTENT_LABELS) == ("complain", "ask_interest_rate")


def test_no_question_between_a_topic_and_something_a_customer_cannot_pick():
    ranking = [{"name": "nlu_fallback", "confidence": THRESHOLD}, {"name": "inform", "confidence": 0.45},
               {"name": "ask_loan_limit", "confidence": 0.42}]
    assert ambiguous_pair(ranking, INTENT_LABELS) is None
    assert "您是想问" not in fallback_reply(ranking, INTENT_LABELS).text
    assert ambiguous_pair([], INTENT_LABELS) is None and ambiguous_pair(AMBIGUOUS[1:], INTENT_LABELS) is None


def test_human_as_one_of_the_two_gets_no_second_human_button():
    ranking = [{"name": "nlu_fallback", "confidence": THRESHOLD}, {"name": "check_progress", "confidence": 0.44},
               {"name": "request_human", "confidence": 0.41}]
    reply = fallback_reply(ranking, INTENT_LABELS)
    assert [b["payload"] for b in reply.buttons] == ["/check_progress", "/request_human"]


def _after_click(payload: str, intent: str, question: str):
    clarified = [{"event": "user", "text": question,
                  "parse_data": {"text": question, "intent": {"name": "nlu_fallback", "confidence": THRESHOLD},
                                 "intent_ranking": AMBIGUOUS}},
                 {"event": "bot", "text": "您是想问「利率与费用」还是「提前还款」？"}]
    return make_tracker(text=payload, intent=intent, events=clarified)


def test_a_clicked_button_answers_the_question_it_clarified(svc):
    # a fee question clarified as 利率与费用 gets the fee list, not the generic rate quote
    messages, _ = run(ActionQuoteRate(), _after_click("/ask_interest_rate", "ask_interest_rate", "有没有手续费啊"))
    fee_text = all_text(messages)
    plain, _ = run(ActionQuoteRate(), make_tracker(text="/ask_interest_rate", intent="ask_interest_rate"))
    assert "罚息" in fee_text and fee_text != all_text(plain)
    assert check_text(fee_text) == []
    messages, _ = run(ActionAnswerTopic(), _after_click("/ask_overdue", "ask_overdue", "晚两天还行不行"))
    assert all_text(messages) and check_text(all_text(messages)) == []
