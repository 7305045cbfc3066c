"""Confusable pairs (issue 22): two messages that share words but ask different things must go to different
intents, checked on the trained dev model (session fixture `model_path`, as tests/e2e/test_nlu_quality.py)
with the whole NLU pipeline, FallbackClassifier included (a fallback is a miss).

The sentences are written for this test, not taken from data/nlu or any evaluation set (the last test checks
that), and the labels follow docs/intents.md: the kinds are the ones issue 22 found on real customers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from ops.retrain.nlu_eval import RasaPredictor, load_examples, normalise, overlaps

ROOT = Path(__file__).resolve().parents[2]

# (kind, (message, intent), (message, intent)): the two halves must be told apart
PAIRS: List[Tuple[str, Tuple[str, str], Tuple[str, str]]] = [
    ("account vs loan cancel", ("我要把这个账号销掉 以后不用这个app了", "account_service"),
     ("这个借款额度我不想要了 帮我关掉", "cancel_loan")),
    ("card unbinding vs withdrawal cancel", ("绑定的那张工行卡想解除掉", "account_service"),
     ("刚提的那笔提现想撤回 钱还没到", "cancel_loan")),
    ("postpone vs repay", ("这期能晚三天再还吗 工资还没发", "ask_overdue"),
     ("这期是几号扣款 扣的哪张卡", "ask_repayment")),
    ("one day late vs this month's bill", ("过了还款日一天才还上 会有影响吗", "ask_overdue"),
     ("这个月账单应该还多少钱", "ask_repayment")),
    ("verification call vs human", ("一直在等你们审核的电话 怎么还没打给我", "check_progress"),
     ("别让机器人回了 帮我转个人工", "request_human")),
    ("missed verification call vs callback", ("核实电话刚才没接到 还会再打过来吗", "check_progress"),
     ("人工客服电话是多少 我自己打过去", "request_human")),
    ("loan fees vs prepayment fees", ("借款要收手续费吗", "ask_interest_rate"),
     ("提前结清的话要付违约金吗", "ask_prepayment")),
    ("ordinary fees vs overdue penalty", ("开通额度放着不用要交钱吗", "ask_interest_rate"),
     ("逾期以后违约金怎么算", "ask_overdue")),
    ("suggestion vs complaint", ("建议app里能直接看到审核进行到哪一步了", "give_suggestion"),
     ("审核慢得要死 什么破平台", "complain")),
    ("decline quoted vs decline reason", ("app显示审核未通过 是已经拒了吗", "check_progress"),
     ("为什么我审核没通过 到底差在哪", "ask_eligibility")),
    ("can't borrow after repaying vs limit restored", ("都还清了怎么就借不了了", "ask_eligibility"),
     ("还完之后额度多久能恢复", "ask_loan_limit")),
    ("rate complaint vs rate question", ("你们这利息贵得离谱 坑人", "complain"),
     ("你们的年化利率是多少", "ask_interest_rate")),
]

EXAMPLES: Dict[str, str] = {text: intent for _, *halves in PAIRS for text, intent in halves}


def test_pairs_are_our_own_sentences_and_really_pairs() -> None:
    """Each pair names two intents; no sentence is (a near copy of) training data or an evaluation message."""
    assert all(a[1] != b[1] for _, a, b in PAIRS)
    training = [t for t, _ in load_examples(ROOT / "data" / "nlu")]
    assert not {normalise(t) for t in training} & {normalise(t) for t in EXAMPLES}
    for name in ("heldout.yml", "wild_dev.yml", "wild_test.yml", "wild2_d.yml", "wild2_e.yml"):
        exact, near = overlaps(list(EXAMPLES), [t for t, _ in load_examples(ROOT / "tests" / "nlu" / name)])
        # only our own sentence is named: the evaluation sets stay unread
        assert not exact and not near, f"{name}: {[t for t, *_ in exact + near]}"


@pytest.fixture(scope="module")
def predicted(model_path: Path) -> Dict[str, str]:
    texts = list(EXAMPLES)
    return dict(zip(texts, RasaPredictor(model_path).predict(texts), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "first", "second"), PAIRS, ids=[kind for kind, _, _ in PAIRS])
def test_confusable_pair_goes_to_different_intents(predicted: Dict[str, str], kind: str,
                                                   first: Tuple[str, str], second: Tuple[str, str]) -> None:
    got = {text: predicted[text] for text, _ in (first, second)}
    assert got == {first[0]: first[1], second[0]: second[1]}, kind
