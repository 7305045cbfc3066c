"""Text normalisation for the intent classifier: what it changes, and that it never moves entity offsets."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.credit_entities import CreditEntityExtractor
from nlu_components.homophones import HomophoneRepair
from nlu_components.intent_features import DOMAIN_TERMS, KEEP_WORDS, Featurizer, char_ngrams, pinyin_ngrams
from nlu_components.textnorm import normalise, pinyin


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＳＱ２０２６额度", "sq2026额度"),  # full-width -> half-width, lower-case
        ("請問為什麼額度變少了", "请问为什么额度变少了"),  # traditional -> simplified
        ("又扣款失败[发怒]", "又扣款失败 生气"),  # WeChat emoticon code -> word
        ("/抓狂 又扣款失败", "生气 又扣款失败"),
        ("还款😡😡", "还款 生气 生气"),  # emoji -> word, not silence
        ("利息多少？？？", "利息多少?"),  # repeated punctuation collapsed
        ("额度呢。。。", "额度呢…"),
        ("额度呢......", "额度呢…"),
        ("谢谢🙏", "谢谢 谢谢"),
        ("好的👍🏻", "好的 好的"),  # skin-tone modifier dropped
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_unknown_bracket_text_is_kept() -> None:
    assert normalise("[合同]写的年化") == "[合同]写的年化"


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [("愈期了会怎样", "逾期了会怎样"), ("怎么帮定银行卡", "怎么绑定银行卡"), ("额渡怎么提", "额度怎么提"),
     ("换款日是哪天", "还款日是哪天"), ("严正码收不到", "验证码收不到"), ("正信不好能借吗", "征信不好能借吗"),
     ("节清证明", "结清证明"), ("随新借", "随心借")],
)
def test_homophone_repair(typo: str, fixed: str) -> None:
    repair = HomophoneRepair([*DOMAIN_TERMS, "随心借"], keep=KEEP_WORDS)
    assert repair(normalise(typo)) == fixed


@pytest.mark.parametrize("text", ["我想提钱", "我还没还款", "提前还款", "今天天气不错", "利益相关"])
def test_homophone_repair_leaves_real_words(text: str) -> None:
    repair = HomophoneRepair(DOMAIN_TERMS, keep=KEEP_WORDS)
    assert repair(text) == text


def test_homophones_share_pinyin_features() -> None:
    assert pinyin("逾期") == pinyin("愈期") == "yu qi"
    assert set(pinyin_ngrams("逾期了")) == set(pinyin_ngrams("愈期了"))
    assert "逾期" in char_ngrams("逾期")


@pytest.mark.parametrize(
    ("raw", "entity", "span", "value"),
    [
        ("查一下ＳＱ２０２６１１２００００１進度😡😡", "application_id",
         "ＳＱ２０２６１１２００００１", "SQ202611200001"),
        ("[发怒]借１万分１２期，利息多少？？？", "amount", "１万", "10000"),
        ("[发怒]借１万分１２期，利息多少？？？", "term", "１２期", "12"),
        ("😡😡我的申請號sq202611200001", "application_id", "sq202611200001", "SQ202611200001"),
    ],
)
def test_entities_keep_raw_offsets(raw: str, entity: str, span: str, value: str) -> None:
    """The classifier only ever sees a normalised *copy*: the message text and the entity spans stay raw,
    even where normalisation changes the length before the entity (emoticon codes, emoji -> words)."""
    message = Message(data={"text": raw})
    CreditEntityExtractor({}).process([message])
    Featurizer(["随心借"], None).prepare(raw)  # what the classifier sees; must not touch the message
    assert message.get("text") == raw
    found = [e for e in message.get("entities") if e["entity"] == entity]
    assert found, message.get("entities")
    assert raw[found[0]["start"]:found[0]["end"]] == span
    assert found[0]["value"] == value
    assert len(normalise(raw)) != len(raw)  # the normalised text would have shifted every offset
