"""credit/answers/repeats.py: a second answer block never repeats the first word for word."""
from __future__ import annotations

from credit.answers import texts as answers
from credit.answers.repeats import ALREADY_SAID, without_repeats
from credit.catalogue.loader import load_catalogue
from credit.compliance import RATE_DISCLAIMER, check_text

CAT = load_catalogue()


def test_the_same_topic_answer_twice_becomes_one_short_line():
    block = answers.topic_answer(CAT, "ask_repayment").text
    second = without_repeats(block, [block])
    assert second is not None and second != block and len(second) < 60
    assert second.splitlines()[0] in ALREADY_SAID


def test_a_second_rate_answer_keeps_what_is_new_and_the_disclaimer():
    first = answers.rate_answer(CAT, None, None, None).text
    new = answers.rate_answer(CAT, None, 50000, 24).text
    second = without_repeats(new, [first])
    assert second is not None
    assert "借5万元、分24期" in second  # what is new
    assert RATE_DISCLAIMER in second  # goes with every rate
    assert "随心借：年化利率" not in second  # the product list was just sent
    assert check_text(second) == []


def test_nothing_sent_before_means_nothing_changes():
    block = answers.topic_answer(CAT, "ask_loan_limit").text
    assert without_repeats(block, []) is None
    assert without_repeats(block, ["您好！"]) is None


def test_the_customers_own_figures_are_shown_even_when_they_equal_the_example():
    first = answers.rate_answer(CAT, None, None, None).text  # "举个例子，借1万元、分12期…"
    own = answers.rate_answer(CAT, None, 10000, 12).text  # "按您借1万元、分12期…": same figures
    second = without_repeats(own, [first])
    assert second is not None and "866.19" in second and "按您借1万元" in second
