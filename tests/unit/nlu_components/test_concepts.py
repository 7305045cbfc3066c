"""The concept lexicon of the intent classifier (issue 22): synonyms share a token, figures their shape, the
lexicon is packaged and persisted with the model, and a synonym the training data never used is classified
by what another member of its group taught."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.concepts import LEXICON_PATH, ConceptTagger, load_lexicon
from nlu_components.intent_classifier import CreditIntentClassifier
from ops.model_cache import model_inputs

TAGGER = ConceptTagger({"fee": ["违约金", "滞纳金", "手续费"], "late": ["逾期", "晚还"], "credit_report": ["征信"],
                        "repay": ["还款", "提前还款"], "prepay": ["提前还款"], "ours": ["随心借"],
                        "lender": ["借呗", "微粒贷"]})


def test_synonyms_share_one_token_and_neighbours_make_pairs() -> None:
    assert TAGGER("逾期会上征信吗") == ["<late>", "<credit_report>", "<late>|<credit_report>"]
    assert TAGGER("晚还会上征信吗") == TAGGER("逾期会上征信吗")
    assert TAGGER("滞纳金多少")[:1] == TAGGER("违约金多少")[:1] == ["<fee>"]


def test_longest_word_wins_and_first_group_owns_a_shared_word() -> None:
    assert TAGGER.concepts("提前还款要钱吗") == ["repay"]  # one mention, not 还款 inside 提前还款 again
    assert TAGGER.concepts("我没有") == []


@pytest.mark.parametrize(("text", "shape"), [
    ("借3万分12期", ["amount", "term"]), ("借两万", ["amount"]), ("晚了两天", ["days"]),
    ("sq202612010001 到哪了", ["appno"]), ("年化18%高吗", ["percent"]),
])
def test_figures_become_their_shape(text: str, shape: list) -> None:
    assert TAGGER.concepts(text) == shape


def test_packaged_lexicon_is_valid_and_a_model_input(tmp_path: Path) -> None:
    lexicon = load_lexicon()
    assert {"fee", "rate", "late", "credit_report", "progress", "account", "withdraw"} <= set(lexicon)
    assert all(words for words in lexicon.values())
    assert LEXICON_PATH.resolve() in {p.resolve() for p in model_inputs()}  # editing it retrains the dev model
    bad = tmp_path / "concepts.yml"
    bad.write_text("fee: 手续费\n", encoding="utf-8")
    with pytest.raises(ValueError, match="list of words"):
        load_lexicon(bad)
    bad.write_text("- 手续费\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        load_lexicon(bad)


def test_build_adds_the_catalogues_names() -> None:
    tagger = ConceptTagger.build(["随心借"], ["借呗", "蚂蚁借呗"])
    assert tagger.concepts("蚂蚁借呗的利息") == ["lender", "rate"]
    assert tagger.concepts("随心借的利息") == ["ours", "rate"]


def test_variants_swap_one_word_within_its_group() -> None:
    texts = ["违约金怎么算", "随心借怎么样", "你好"]
    out, labels = TAGGER.variants(texts, ["a", "b", "c"], seed=1, share=1.0)
    assert labels == ["a"]  # our own product name is never swapped; a text without a lexicon word has none
    assert out[0] in {"滞纳金怎么算", "手续费怎么算"}


def test_an_unseen_synonym_is_classified_by_its_group(tmp_path: Path) -> None:
    corpus = [("违约金怎么收", "fees"), ("违约金多少钱", "fees"), ("有违约金吗", "fees"),
              ("额度多少", "limit"), ("额度怎么提", "limit"), ("能借多少额度", "limit"),
              ("我要投诉", "complain"), ("投诉你们", "complain"), ("差评", "complain")]
    lexicon = {"fee": ["违约金", "滞纳金", "罚金"], "limit": ["额度"], "complain": ["投诉", "差评"]}
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**CreditIntentClassifier.get_default_config(), "block_scales": {"concept": 2.0},
              "userdict": "data/jieba/userdict.txt"}
    resource = Resource("intent_classifier")
    storage = LocalModelStorage(tmp_path)
    component = CreditIntentClassifier(config, storage, resource, product_names=[],
                                       concepts=ConceptTagger(lexicon))
    component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in corpus]))
    (tmp_path / "plain").mkdir()
    plain = CreditIntentClassifier(config, LocalModelStorage(tmp_path / "plain"), resource, product_names=[])
    plain.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in corpus]))
    fees = component.model.classes.index("fees")
    assert component.probabilities(["罚金呢"])[0, fees] > plain.probabilities(["罚金呢"])[0, fees]
    assert component.model.classes[int(np.argmax(component.probabilities(["罚金呢"])[0]))] == "fees"
    # the model carries its own lexicon: loading it needs neither concepts.yml nor the catalogue
    loaded = CreditIntentClassifier.load({**config, "concepts": True}, storage, resource, context)
    assert loaded.featurizer.concepts is not None and loaded.featurizer.concepts.to_json() == lexicon
    np.testing.assert_allclose(loaded.probabilities(["罚金呢", "额度"]), component.probabilities(["罚金呢", "额度"]))
