"""The intent classifier: its arrays reproduce scikit-learn exactly, it survives a save/load round trip
through Rasa's model storage, and its rules (reply-only -> inform) hold."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.credit_entities import CreditEntityExtractor
from nlu_components.intent_classifier import CreditIntentClassifier, is_reply_only
from nlu_components.intent_features import Featurizer, char_ngrams, plain_chars
from nlu_components.linear_model import LinearIntentModel

CORPUS = [
    ("利息怎么算", "ask_interest_rate"), ("年化利率多少", "ask_interest_rate"),
    ("借一万利息多少钱", "ask_interest_rate"), ("利率高不高", "ask_interest_rate"),
    ("手续费收多少", "ask_interest_rate"),
    ("额度有多少", "ask_loan_limit"), ("怎么提额", "ask_loan_limit"), ("额度为什么降了", "ask_loan_limit"),
    ("能借多少钱", "ask_loan_limit"), ("额度怎么是0", "ask_loan_limit"),
    ("SQ202611200001", "inform"), ("两万", "inform"), ("随心借", "inform"), ("12期", "inform"), ("装修用", "inform"),
    ("我要投诉", "complain"), ("太慢了 垃圾", "complain"), ("什么破服务", "complain"), ("差评", "complain"),
    ("乱收费 坑人", "complain"),
]


def _fit(texts, labels) -> LinearIntentModel:
    return LinearIntentModel.fit(texts, labels, {"char": char_ngrams}, c=10.0)


def test_arrays_reproduce_sklearn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = zip(*CORPUS, strict=True)
    ours = _fit(texts, labels)
    vectorizer = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, lowercase=False)
    lr = LogisticRegression(C=10.0, max_iter=3000, multi_class="multinomial").fit(vectorizer.fit_transform(texts),
                                                                                labels)
    probe = ["利息高吗", "额度咋提", "投诉你们", "完全没见过的句子"]
    np.testing.assert_allclose(ours.predict_proba(probe), lr.predict_proba(vectorizer.transform(probe)), atol=1e-9)
    np.testing.assert_allclose(ours.features(probe).toarray(), vectorizer.transform(probe).toarray(), atol=1e-12)


def test_save_and_load_without_pickle(tmp_path: Path) -> None:
    texts, labels = zip(*CORPUS, strict=True)
    model = _fit(texts, labels)
    model.save(tmp_path)
    loaded = LinearIntentModel.load(tmp_path, {"char": char_ngrams})
    np.testing.assert_allclose(loaded.predict_proba(["利息高吗"]), model.predict_proba(["利息高吗"]))
    assert not list(tmp_path.glob("*.pkl"))


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_trains_persists_loads_and_classifies(storage: LocalModelStorage) -> None:
    resource = Resource("intent_classifier")
    config = {"userdict": "data/jieba/userdict.txt"}
    component = CreditIntentClassifier.create({**CreditIntentClassifier.get_default_config(), **config}, storage,
                                              resource, _context())
    data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in CORPUS])
    component.train(data)
    loaded = CreditIntentClassifier.load({**CreditIntentClassifier.get_default_config(), **config}, storage,
                                         resource, _context())
    messages = [Message(data={"text": t}) for t in ("利習怎么算的", "額度為什麼降了", "SQ202611200002", "太慢了[发怒]")]
    CreditEntityExtractor({}).process(messages)
    loaded.process(messages)
    got = [m.get("intent")["name"] for m in messages]
    assert got == ["ask_interest_rate", "ask_loan_limit", "inform", "complain"]
    ranking = messages[0].get("intent_ranking")
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6  # every intent in this tiny model is ranked
    assert ranking[0]["confidence"] == messages[0].get("intent")["confidence"]


def test_outreach_only_intents_are_skipped_in_training(storage: LocalModelStorage) -> None:
    """EXTERNAL_* examples (data/nlu/external.yml) only describe the event; even their own words are never
    classified as one, because the classifier never learns the label."""
    resource = Resource("intent_classifier")
    config = {**CreditIntentClassifier.get_default_config(), "userdict": "data/jieba/userdict.txt"}
    component = CreditIntentClassifier.create(config, storage, resource, _context())
    event = "【系统事件】已向客户发出一条主动通知"
    data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in CORPUS]
                        + [Message(data={"text": event, "intent": "EXTERNAL_outreach_notice"})] * 3)
    component.train(data)
    message = Message(data={"text": event})
    component.process([message])
    assert not any(r["name"].startswith("EXTERNAL_") for r in message.get("intent_ranking"))


@pytest.mark.parametrize(
    ("text", "reply_only"),
    [("SQ202611200001", True), ("嗯 两万", True), ("随心借吧", True), ("借1万分12期", True),
     ("借1万分12期利息多少", False), ("两万够吗", False), ("你好", False)],
)
def test_reply_only(text: str, reply_only: bool) -> None:
    message = Message(data={"text": text})
    CreditEntityExtractor({}).process([message])
    assert is_reply_only(text, message.get("entities") or []) is reply_only


def test_featurizer_needs_no_userdict() -> None:
    assert Featurizer([], None).words("额度怎么提")


def test_plain_chars_are_sklearns_char_analyzer() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).build_analyzer()
    for text in ("利息太高了[捂脸]", "借呗  ABC 手续费", "a", "喂\t\t人工"):
        assert plain_chars(text) == analyzer(text)


def test_block_scales_weigh_families_and_survive_save_load(tmp_path: Path) -> None:
    texts, labels = zip(*CORPUS, strict=True)
    analyzers = {"char": char_ngrams, "plain_char": plain_chars}
    model = LinearIntentModel.fit(texts, labels, analyzers, c=10.0, scales={"plain_char": 0.5})
    row = model.features(["利息高吗"]).toarray()[0]
    split = len(model.families[0].vocabulary)
    assert np.linalg.norm(row[:split]) == pytest.approx(1.0)
    assert np.linalg.norm(row[split:]) == pytest.approx(0.5)
    model.save(tmp_path)
    loaded = LinearIntentModel.load(tmp_path, analyzers)
    np.testing.assert_allclose(loaded.predict_proba(["利息高吗"]), model.predict_proba(["利息高吗"]))


def test_plain_char_member_is_persisted_and_used(storage: LocalModelStorage) -> None:
    resource = Resource("intent_classifier")
    config = {**CreditIntentClassifier.get_default_config(), "userdict": "data/jieba/userdict.txt",
              "char_weight": 0.5}
    component = CreditIntentClassifier.create(config, storage, resource, _context())
    component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in CORPUS]))
    loaded = CreditIntentClassifier.load(config, storage, resource, _context())
    assert loaded.char_model is not None
    probe = ["利息高吗", "额度咋提", "投诉你们"]
    np.testing.assert_allclose(loaded.probabilities(probe), component.probabilities(probe))
    alone = CreditIntentClassifier.load({**config, "char_weight": 0.0}, storage, resource, _context())
    mixed = 0.5 * alone.probabilities(probe) + 0.5 * loaded.char_model.predict_proba(probe)
    np.testing.assert_allclose(loaded.probabilities(probe), mixed)
