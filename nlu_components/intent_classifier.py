"""The assistant's one intent classifier: normalised text, char/pinyin/word TF-IDF, LR + NB ensemble.

Why not DIET or Rasa's LogisticRegressionClassifier: on real customers' wording (tests/nlu/wild_dev.yml)
a plain char-n-gram TF-IDF + logistic regression beat our DIET pipeline, and Rasa's own LR classifier
fits raw counts with a fixed C on features whose char n-grams stop at jieba token boundaries.  This
component does what works, as ONE component that sets ``intent`` (two classifiers in a row would
silently overwrite each other):

1. :class:`~nlu_components.intent_features.Featurizer` prepares the text (full-width, traditional,
   emoticons, homophone typos — training and inference alike; the message's raw text and entity
   offsets are untouched) and extracts char 1-4-grams, pinyin 1-3-grams and jieba words.
2. A multinomial logistic regression and a complement naive Bayes on the same features; their
   probabilities are averaged with weight ``nb_weight`` (an ensemble of two views of the data).  A third
   member, a plain char 1-3-gram TF-IDF logistic regression on the *raw* text (what the TF-IDF peer of
   bench/nlu_bench.py is), is averaged in with weight ``char_weight`` (issue 22): its errors differ from the
   big model's, and on unseen wording (5-fold CV on data/nlu) the mix beats both.  The result is
   calibrated with one temperature (fitted by log-loss on wild_dev), so that FallbackClassifier's
   threshold means what it says.
3. A message that is nothing but entity values (an application number, an amount, a product name,
   fillers) is ``inform``: it answers the assistant's question.  Every other message gets
   ``inform_bias`` subtracted from inform's log-probability, because a real customer's message that
   also holds a number ("借五万分24期一个月还多少") is a question, not an answer.
4. Long messages: the training data holds long situation descriptions in every intent, and the
   features of the whole message decide.  ``clause_mode: max`` (score each clause too and let the most
   confident clause decide) is available; on wild_dev it changed nothing (long slice 0.91 either way)
   and doubled the parse time, so it is off by default (docs/benchmarks.md).

``nb_weight``, ``inform_bias``, ``C``, ``temperature`` and ``clause_mode`` were chosen on tests/nlu/wild_dev.yml only,
``char_weight`` on wild_dev and 5-fold CV on data/nlu (docs/benchmarks.md); the probabilities are what
FallbackClassifier thresholds.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.concepts import ConceptTagger
from nlu_components.intent_features import Featurizer, augment, clauses, plain_chars
from nlu_components.linear_model import LinearIntentModel, SparseRow
from nlu_components.textnorm import normalise

logger = logging.getLogger(__name__)

INFORM = "inform"
EXTERNAL_PREFIX = "EXTERNAL_"  # outreach-only intents (data/nlu/external.yml): never learned from text
RANKING_LENGTH = 10
_FILLER_CHARS = set("嗯啊哦噢呃额呢吧呀哈的是就我这那个了用借要分期款号码编为:：")
_PUNCT_CHARS = set(" ,.!?;:~，。！？；：、…'\"“”")
_CLAUSE_MIN_CHARS = 16


def is_reply_only(text: str, entities: List[Dict[str, Any]]) -> bool:
    """True when ``text`` is entity values plus fillers only ("SQ2026…", "两万", "随心借吧")."""
    if not entities:
        return False
    chars = list(text)
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, int) and isinstance(end, int):
            chars[start:end] = " " * (end - start)
    rest = normalise("".join(chars))
    return all(ch in _FILLER_CHARS or ch in _PUNCT_CHARS or ch.isspace() for ch in rest)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CreditIntentClassifier(GraphComponent, IntentClassifier):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "C": 30.0,  # inverse regularisation of the logistic regression
            "nb_weight": 0.3,  # share of the naive Bayes probabilities in the ensemble
            "nb_alpha": 0.3,
            "inform_bias": 1.0,  # log-probability taken from inform unless the message is reply-only
            "clause_mode": "none",  # "none" or "max" (see module docstring)
            "temperature": 0.5,  # probabilities ** (1 / temperature), renormalised: fitted by NLL on wild_dev
            "block_scales": {},  # feature family -> l2 norm in the concatenation ({"word": 0.5}); default 1 each
            "char_weight": 0.0,  # share of a plain char 1-3-gram TF-IDF LR (the peer's view) in the ensemble
            "char_C": 100.0,
            "char_input": "raw",  # the plain member reads the raw text ("raw") or the prepared one ("prepared")
            "augment_share": 0.0,  # share of training examples given a voice/lead-in variant
            "concepts": False,  # concept tokens of nlu_components/concepts.yml + the catalogue's names (issue 22)
            "synonym_share": 0.0,  # share of training examples given a synonym-swapped variant (needs concepts)
            "random_seed": 42,
            "userdict": "data/jieba/userdict.txt",
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn", "jieba", "pypinyin", "opencc"]

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 product_names: Optional[List[str]] = None, userdict: Optional[Path] = None,
                 concepts: Optional[ConceptTagger] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.product_names = product_names if product_names is not None else _catalogue_product_names()
        # Training reads the project's dictionary; a trained model carries its own copy (see persist), so the
        # words jieba knows cannot differ between training and serving, whatever the server's working folder.
        self.userdict = userdict if userdict is not None else Path(self.config["userdict"])
        if concepts is None and self.config["concepts"]:
            concepts = ConceptTagger.build(self.product_names, _catalogue_lender_names())
        self.featurizer = Featurizer(self.product_names, self.userdict, concepts)
        self.model: Optional[LinearIntentModel] = None
        self.char_model: Optional[LinearIntentModel] = None
        self.nb_log_prob = None

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CreditIntentClassifier":
        return cls(config, model_storage, resource)

    # ------------------------------------------------------------------ training

    def train(self, training_data: TrainingData) -> Resource:
        # Outreach-only intents (EXTERNAL_*, triggered by the outreach engine through Rasa's external-intent
        # mechanism) carry two descriptive examples so that `rasa data validate --fail-on-warnings` knows them;
        # they are never learned, so no customer text can ever be classified as one.
        examples = [e for e in training_data.intent_examples
                    if e.get(TEXT) and e.get(INTENT) and not str(e.get(INTENT)).startswith(EXTERNAL_PREFIX)]
        texts = [e.get(TEXT) for e in examples]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            logger.warning("CreditIntentClassifier: fewer than two intents, nothing to train")
            return self._resource
        extra_texts, extra_labels = augment(texts, labels, int(self.config["random_seed"]),
                                            float(self.config["augment_share"]), exclude=(INFORM,))
        prepared = [self.featurizer.prepare(t) for t in texts + extra_texts]
        all_labels = labels + extra_labels
        raw_inputs = texts + extra_texts
        tagger = self.featurizer.concepts
        if tagger is not None and float(self.config["synonym_share"]) > 0:
            swapped, swapped_labels = tagger.variants(prepared[:len(texts)], labels, int(self.config["random_seed"]),
                                                      float(self.config["synonym_share"]), exclude=(INFORM,))
            prepared += swapped
            raw_inputs += swapped
            all_labels = all_labels + swapped_labels
        self.model = LinearIntentModel.fit(prepared, all_labels, self.featurizer.analyzers(), float(self.config["C"]),
                                           scales=dict(self.config["block_scales"] or {}))
        self.nb_log_prob = self._fit_nb(prepared, all_labels)
        if float(self.config["char_weight"]) > 0:
            inputs = prepared if self.config["char_input"] == "prepared" else raw_inputs
            self.char_model = LinearIntentModel.fit(inputs, all_labels, {"plain_char": plain_chars},
                                                    float(self.config["char_C"]))
            if self.char_model.classes != self.model.classes:
                raise ValueError("the plain char model and the main model disagree on the intent order")
        self.persist()
        return self._resource

    def _fit_nb(self, prepared: List[str], labels: List[str]) -> np.ndarray:
        from sklearn.naive_bayes import ComplementNB

        assert self.model is not None
        nb = ComplementNB(alpha=float(self.config["nb_alpha"])).fit(self.model.features(prepared), np.array(labels))
        if [str(c) for c in nb.classes_] != self.model.classes:
            raise ValueError("naive Bayes and logistic regression disagree on the intent order")
        return nb.feature_log_prob_.astype(np.float32)

    # ----------------------------------------------------------------- inference

    def probabilities(self, raw_texts: List[str]) -> np.ndarray:
        """Ensemble probabilities (rows: texts, columns: ``self.model.classes``), before rules."""
        assert self.model is not None
        rows = []
        for raw in raw_texts:
            prepared = self.featurizer.prepare(raw)
            probs = self._probability(self.model.row(prepared))
            weight = float(self.config["char_weight"])
            if self.char_model is not None and weight > 0:
                text = prepared if self.config["char_input"] == "prepared" else raw
                probs = (1 - weight) * probs + weight * self.char_model.proba_row(self.char_model.row(text))
            rows.append(probs)
        return np.vstack(rows)

    def _probability(self, row: SparseRow) -> np.ndarray:
        assert self.model is not None
        lr = self.model.proba_row(row)
        weight = float(self.config["nb_weight"])
        if self._nb_t is None or weight <= 0:
            return lr
        jll = row.dot(self._nb_t)
        nb = np.exp(jll - jll.max())
        return (1 - weight) * lr + weight * nb / nb.sum()

    @property
    def nb_log_prob(self) -> Optional[np.ndarray]:
        return self._nb

    @nb_log_prob.setter
    def nb_log_prob(self, value: Optional[np.ndarray]) -> None:
        self._nb = value
        self._nb_t = None if value is None else np.ascontiguousarray(value.T, dtype=np.float64)

    def _scores(self, text: str, entities: List[Dict[str, Any]]) -> np.ndarray:
        assert self.model is not None
        probs = self.probabilities([text])[0]
        if self.config["clause_mode"] == "max" and len(normalise(text)) >= _CLAUSE_MIN_CHARS:
            parts = clauses(normalise(text))
            if len(parts) >= 2:
                clause_probs = self.probabilities(parts)
                best = clause_probs[int(clause_probs.max(axis=1).argmax())]
                if best.max() > probs.max():
                    probs = best
        classes = self.model.classes
        if INFORM in classes:
            j = classes.index(INFORM)
            if is_reply_only(text, entities):
                probs = probs.copy()
                probs[j] = max(probs[j], 0.0) + 1.0  # renormalised below: inform decides
            else:
                probs = probs.copy()
                probs[j] *= float(np.exp(-float(self.config["inform_bias"])))
        probs = probs ** (1.0 / float(self.config["temperature"]))
        return probs / probs.sum()

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            probs = self._scores(text, message.get(ENTITIES) or [])
            ranking = self.model.ranking(probs, RANKING_LENGTH)
            message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True)
        return messages

    # ------------------------------------------------------------------- storage

    def persist(self) -> None:
        if self.model is None:
            return
        with self._storage.write_to(self._resource) as directory:
            self.model.save(directory)
            if self.nb_log_prob is not None:
                np.save(directory / "nb_log_prob.npy", self.nb_log_prob, allow_pickle=False)
            if self.char_model is not None:
                (directory / "char_lr").mkdir(exist_ok=True)
                self.char_model.save(directory / "char_lr")
            (directory / "products.json").write_text(json.dumps(self.product_names, ensure_ascii=False),
                                                     encoding="utf-8")
            words = self.userdict.read_text(encoding="utf-8") if self.userdict.is_file() else ""
            (directory / "userdict.txt").write_text(words, encoding="utf-8")
            if self.featurizer.concepts is not None:
                (directory / "concepts.json").write_text(
                    json.dumps(self.featurizer.concepts.to_json(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "CreditIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                products = json.loads((directory / "products.json").read_text(encoding="utf-8"))
                concepts_path = directory / "concepts.json"
                concepts = (ConceptTagger(json.loads(concepts_path.read_text(encoding="utf-8")))
                            if concepts_path.exists() else None)
                component = cls({**config, "concepts": False}, model_storage, resource, product_names=products,
                                userdict=directory / "userdict.txt", concepts=concepts)
                component.featurizer.jieba  # noqa: B018 - load the dictionary now, while the folder exists
                component.model = LinearIntentModel.load(directory, component.featurizer.analyzers())
                nb_path = directory / "nb_log_prob.npy"
                component.nb_log_prob = np.load(nb_path, allow_pickle=False) if nb_path.exists() else None
                if (directory / "char_lr" / "linear_model.json").exists():
                    component.char_model = LinearIntentModel.load(directory / "char_lr", {"plain_char": plain_chars})
                return component
        except (ValueError, FileNotFoundError):
            logger.warning("CreditIntentClassifier: no trained model in %s; intents will be empty", resource.name)
            return cls.create(config, model_storage, resource, execution_context)


def _catalogue_product_names() -> List[str]:
    from credit.catalogue.loader import load_catalogue

    names: List[str] = []
    for code in load_catalogue().product_codes:
        names.extend(load_catalogue().product(code).names)
    return [n for n in dict.fromkeys(names) if re.fullmatch(r"[\u4e00-\u9fff]{2,5}", n)]


def _catalogue_lender_names() -> List[str]:
    from credit.catalogue.loader import load_catalogue

    return [n for lender in load_catalogue().other_lenders.names for n in lender.names]
