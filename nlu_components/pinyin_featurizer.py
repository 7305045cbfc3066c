"""Pinyin character n-gram sparse featurizer (optional, for homophone robustness).

Each token's text is converted to tone-less pinyin (``pypinyin.lazy_pinyin``)
before Rasa's own :class:`CountVectorsFeaturizer` machinery vectorises it, so
homophones typed by pinyin IMEs or produced by ASR share features:
逾期/愈期 -> "yuqi", 提现/体现 -> "tixian".  Sequence features keep one row
per token (same token count as the tokenizer), sentence features are the
n-grams of the whole message; vocabulary persistence, loading and
fine-tuning are inherited unchanged.

config.yml (after the tokenizer)::

    - name: nlu_components.pinyin_featurizer.PinyinCharNgramFeaturizer
      # defaults: analyzer char_wb, min_ngram 2, max_ngram 4; every
      # CountVectorsFeaturizer option is accepted, plus:
      # pinyin_separator: ""   # joins the syllables of one token
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List

from pypinyin import Style, lazy_pinyin
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.training_data.message import Message


@lru_cache(maxsize=100_000)
def to_pinyin(text: str, separator: str = "") -> str:
    """'逾期' -> 'yuqi'; non-Chinese characters are kept as they are."""
    if not text:
        return text
    return separator.join(lazy_pinyin(text, style=Style.NORMAL, errors="default"))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class PinyinCharNgramFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer over the pinyin of each token (char n-grams)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Returns the component's default config."""
        return {
            **CountVectorsFeaturizer.get_default_config(),
            "analyzer": "char_wb",
            "min_ngram": 2,
            "max_ngram": 4,
            "pinyin_separator": "",
        }

    @staticmethod
    def required_packages() -> List[str]:
        """Any extra python dependencies required for this component to run."""
        return ["sklearn", "pypinyin"]

    def _get_message_tokens_by_attribute(self, message: Message, attribute: str) -> List[str]:
        """Token texts of ``attribute``, converted to pinyin for text attributes."""
        tokens = super()._get_message_tokens_by_attribute(message, attribute)
        if attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
            # intent / action_name labels are whole labels, leave them alone
            return tokens
        separator = self._config.get("pinyin_separator", "")
        return [to_pinyin(token, separator) for token in tokens]
