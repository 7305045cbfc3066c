"""Issue 22, end to end through REST: a message the model finds ambiguous between two topics gets
"您是想问「A」还是「B」？" with one button per topic; each button's payload leads to that topic's answer.

Which message is ambiguous depends on the trained model, so the test asks the running server
(`/model/parse`, the same model the REST channel uses) about two-topic messages built from plain questions and
takes the first one that FallbackClassifier sent to nlu_fallback on ambiguity (its top intent at or above the
fallback confidence).  If no such message exists the clarification can never be seen, and the test fails.
"""
from __future__ import annotations

from itertools import permutations

import pytest

from actions.common import INTENT_LABELS
from credit.answers.clarify import ambiguous_pair
from credit.compliance import check_text
from harness.http import http_json

pytestmark = pytest.mark.slow

# a plain question per topic, and a phrase that only that topic's answer holds
QUESTIONS = {
    "ask_repayment": ("每个月几号扣款", "关于还款"),
    "ask_overdue": ("晚几天还会怎么样", "宽限期"),
    "ask_loan_limit": ("额度能给多少", "关于额度"),
    "account_service": ("手机号怎么换绑", "账户相关业务"),
    "ask_eligibility": ("申请要什么条件", "申请条件"),
    "ask_prepayment": ("可以提前还清吗", "提前还款"),
}
GLUE = ("，还有", " ", "。另外")


def _ambiguous_message(stack) -> tuple[str, tuple[str, str]]:
    for (qa, _), (qb, _) in permutations(QUESTIONS.values(), 2):
        for glue in GLUE:
            text = qa + glue + qb
            parse = http_json("POST", f"{stack.rasa_url}/model/parse?token={stack.token}", {"text": text})
            pair = ambiguous_pair(parse.get("intent_ranking") or [], INTENT_LABELS)
            if parse["intent"]["name"] == "nlu_fallback" and pair and set(pair) <= set(QUESTIONS):
                return text, pair
    raise AssertionError("no two-topic message is ambiguous for this model: the clarification never shows")


@pytest.fixture(scope="module")
def ambiguous(stack) -> tuple[str, tuple[str, str]]:
    return _ambiguous_message(stack)


@pytest.mark.parametrize("choice", [0, 1])
def test_two_close_topics_are_offered_and_each_button_answers_its_topic(stack, sender, ambiguous, choice):
    text, pair = ambiguous
    messages = stack.rest(sender, text)  # a first turn may open with the privacy notice
    asked = next((m for m in messages if "您是想问" in (m.get("text") or "")), messages[-1])
    assert asked["text"].startswith(f"您是想问「{INTENT_LABELS[pair[0]]}」还是「{INTENT_LABELS[pair[1]]}」？")
    payloads = [b["payload"] for b in asked.get("buttons") or []]
    assert payloads == [f"/{pair[0]}", f"/{pair[1]}", "/request_human"]
    assert check_text(asked["text"]) == []
    chosen = pair[choice]
    answer = stack.texts(sender, payloads[choice])
    assert QUESTIONS[chosen][1] in answer, (chosen, answer)
    assert "您是想问" not in answer and check_text(answer) == []
