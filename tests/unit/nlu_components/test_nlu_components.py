"""Tests for the custom Rasa NLU components in nlu_components/."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.credit_entities import CreditEntityExtractor
from nlu_components.pinyin_featurizer import PinyinCharNgramFeaturizer, to_pinyin

# --------------------------------------------------------------------------
# CreditEntityExtractor
# --------------------------------------------------------------------------


@pytest.fixture
def graph_env(tmp_path):
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage.create(tmp_path / "storage")
    context = ExecutionContext(GraphSchema({}), "test")
    return storage, context


@pytest.fixture
def extractor(graph_env):
    storage, context = graph_env
    return CreditEntityExtractor.create(
        CreditEntityExtractor.get_default_config(), storage, Resource("extractor"), context
    )


def run(extractor, text, entities=None):
    message = Message(data={TEXT: text})
    if entities is not None:
        message.set(ENTITIES, entities)
    extractor.process([message])
    return message.get(ENTITIES)


def simple(entities):
    return [(e["entity"], e["value"], e["start"], e["end"]) for e in entities]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("借1万分12期利息多少", [("amount", "10000", 1, 3), ("term", "12", 4, 7)]),
        ("SQ202611200001", [("application_id", "SQ202611200001", 0, 14)]),
        ("ｓｑ２０２６１１２０００01", [("application_id", "SQ202611200001", 0, 14)]),
        ("身份证后四位123x", [("id_last4", "123X", 6, 10)]),
        ("1234", [("id_last4", "1234", 0, 4)]),
        ("手机尾号5678", [("phone_last4", "5678", 4, 8)]),
        ("验证码123456", [("otp_code", "123456", 3, 9)]),
        ("随心借利息多少", [("product", "suixinjie", 0, 3)]),
        ("催收爆通讯录", [("complaint_category", "collection", 0, 2)]),
        ("你好", []),
        ("", []),
    ],
)
def test_extractor_process(extractor, text, expected):
    assert simple(run(extractor, text)) == expected


def test_extractor_entity_format(extractor):
    (entity,) = run(extractor, "SQ202611200001")
    assert entity == {
        "entity": "application_id",
        "value": "SQ202611200001",
        "start": 0,
        "end": 14,
        "extractor": "CreditEntityExtractor",
        "confidence_entity": 1.0,
    }


def test_extractor_keeps_non_overlapping_existing_entities(extractor):
    existing = [
        {"entity": "city", "value": "北京", "start": 0, "end": 2, "extractor": "DIETClassifier"},
        {"entity": "number", "value": 1, "start": 3, "end": 5, "extractor": "DIETClassifier"},
    ]
    result = run(extractor, "北京借1万分12期", existing)
    assert simple(result) == [
        ("city", "北京", 0, 2),
        ("amount", "10000", 3, 5),
        ("term", "12", 6, 9),
    ]


def test_extractor_is_idempotent(extractor):
    message = Message(data={TEXT: "借1万分12期"})
    extractor.process([message])
    extractor.process([message])
    assert simple(message.get(ENTITIES)) == [("amount", "10000", 1, 3), ("term", "12", 4, 7)]


def test_extractor_dimensions(graph_env):
    storage, context = graph_env
    config = {**CreditEntityExtractor.get_default_config(), "dimensions": ["term"]}
    ext = CreditEntityExtractor.create(config, storage, Resource("x"), context)
    assert simple(run(ext, "借1万分12期")) == [("term", "12", 4, 7)]


def test_extractor_handles_many_messages_and_missing_text(extractor):
    messages = [Message(data={TEXT: t}) for t in ["借5000", "1234", "😀" * 100]]
    messages.append(Message(data={}))
    extractor.process(messages)
    assert [len(m.get(ENTITIES) or []) for m in messages] == [1, 1, 0, 0]


def test_components_are_registered():
    registered = DefaultV1Recipe._registered_components
    assert registered["CreditEntityExtractor"].clazz is CreditEntityExtractor
    assert DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR in registered["CreditEntityExtractor"].types
    assert registered["CreditEntityExtractor"].is_trainable is False
    assert registered["PinyinCharNgramFeaturizer"].clazz is PinyinCharNgramFeaturizer
    assert registered["PinyinCharNgramFeaturizer"].is_trainable is True


# --------------------------------------------------------------------------
# PinyinCharNgramFeaturizer
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [("逾期", "愈期"), ("提现", "体现"), ("利息", "利西")],
)
def test_to_pinyin_homophones(a, b):
    assert to_pinyin(a) == to_pinyin(b)


def test_to_pinyin_keeps_non_chinese():
    assert to_pinyin("逾期") == "yuqi"
    assert to_pinyin("SQ2026") == "SQ2026"
    assert to_pinyin("") == ""


def _tokenize(texts):
    tokenizer = JiebaTokenizer.create(JiebaTokenizer.get_default_config(), None, None, None)
    messages = [Message(data={TEXT: t}) for t in texts]
    tokenizer.process(messages)
    return messages


def test_pinyin_featurizer_train_process_and_homophones(graph_env):
    storage, context = graph_env
    featurizer = PinyinCharNgramFeaturizer.create(
        PinyinCharNgramFeaturizer.get_default_config(), storage, Resource("pinyin"), context
    )
    train = _tokenize(["我逾期了怎么办", "我想提现", "利息是多少", "你好"])
    for m, intent in zip(train, ["ask_overdue", "account_service", "ask_interest_rate", "greet"], strict=True):
        m.set("intent", intent)
    featurizer.train(TrainingData(train))
    featurizer.process_training_data(TrainingData(train))

    msgs = _tokenize(["逾期", "愈期", "体现"])
    featurizer.process(msgs)
    seq = [m.get_sparse_features(TEXT)[0] for m in msgs]
    sent = [m.get_sparse_features(TEXT)[1] for m in msgs]
    for m, s in zip(msgs, seq, strict=True):
        # one sequence row per token
        assert s.features.shape[0] == len(m.get("text_tokens"))
    assert sent[0].features.shape[0] == 1
    # homophones get identical features
    assert (sent[0].features != sent[1].features).nnz == 0
    assert sent[2].features.sum() > 0


def test_pinyin_featurizer_persist_and_load(graph_env):
    storage, context = graph_env
    resource = Resource("pinyin_persist")
    config = PinyinCharNgramFeaturizer.get_default_config()
    featurizer = PinyinCharNgramFeaturizer.create(config, storage, resource, context)
    train = _tokenize(["我逾期了怎么办", "我想提现"])
    featurizer.train(TrainingData(train))

    loaded = PinyinCharNgramFeaturizer.load(config, storage, resource, context)
    a, b = _tokenize(["愈期了"]), _tokenize(["愈期了"])
    featurizer.process(a)
    loaded.process(b)
    fa = a[0].get_sparse_features(TEXT)[1].features.toarray()
    fb = b[0].get_sparse_features(TEXT)[1].features.toarray()
    assert np.array_equal(fa, fb) and fa.sum() > 0


# --------------------------------------------------------------------------
# end to end: train a tiny NLU model with both components and parse with it
# --------------------------------------------------------------------------

CONFIG = """
recipe: default.v1
language: zh
assistant_id: test_nlu_components
pipeline:
  - name: JiebaTokenizer
  - name: nlu_components.credit_entities.CreditEntityExtractor
  - name: nlu_components.pinyin_featurizer.PinyinCharNgramFeaturizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 1
    entity_recognition: false
    constrain_similarities: true
    random_seed: 1
policies: []
"""

NLU = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好
    - 在吗
- intent: ask_loan_limit
  examples: |
    - 我能借多少
    - 借1万分12期利息多少
    - 额度是多少
- intent: ask_overdue
  examples: |
    - 逾期了怎么办
    - 逾期会怎样
    - 我还款晚了
"""


@pytest.mark.slow
def test_train_and_parse_with_custom_components(tmp_path, monkeypatch):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.chdir(tmp_path)  # keep rasa's cache/model output in tmp
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / ".rasa_cache"))
    (tmp_path / "config.yml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    (tmp_path / "nlu.yml").write_text(textwrap.dedent(NLU), encoding="utf-8")

    model_path = train_nlu(
        config=str(tmp_path / "config.yml"),
        nlu_data=str(tmp_path / "nlu.yml"),
        output=str(tmp_path / "models"),
    )
    assert model_path and Path(model_path).exists()

    agent = Agent.load(model_path)
    result = asyncio.run(agent.parse_message("借1万分12期利息多少"))
    assert [(e["entity"], e["value"], e["extractor"]) for e in result["entities"]] == [
        ("amount", "10000", "CreditEntityExtractor"),
        ("term", "12", "CreditEntityExtractor"),
    ]
    result = asyncio.run(agent.parse_message("身份证后四位123x"))
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [("id_last4", "123X")]
    assert result["intent"]["name"] in {"greet", "ask_loan_limit", "ask_overdue"}
