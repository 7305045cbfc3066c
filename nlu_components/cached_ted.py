"""TEDPolicy whose predictions are remembered by the dialogue states they were computed from (issue 25).

The profile of the Rasa server at 20 concurrent conversations (docs/benchmarks.md → "Where a turn's CPU
goes") put TED's TensorFlow inference first: about a third of a turn's CPU, paid at every prediction
step of every turn, although the answer is a pure function of its input.  Without end-to-end text
features (our stories and rules carry intents, never user text), that input is the list of the last
``max_history`` dialogue states: intent and entity names, featurised slots, the previous action, the
active loop.  Those are few and they repeat: the same flows reach the same states.  So the prediction
is looked up by those states first; only a state sequence not seen since the model was loaded reaches
TensorFlow.

What this does not change: the states are computed as TEDPolicy computes them (the same featurizer,
the same ``rule_only_data`` and flags), so a hit returns exactly the probabilities the model would
give; a model trained with user text in its stories (``TEXT`` among TED's features, or ``only_e2e``)
bypasses the cache, since the text would then be an input too.  The cache lives with the loaded
policy (a new model, a new cache) and is bounded (least recently used out).

Rasa 3.6.21: ``TEDPolicy.predict_action_probabilities`` and the featurizer's ``prediction_states`` are
the members used; tests/unit/nlu_components/test_cached_ted.py fingerprints them.
"""
from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from threading import Lock
from typing import Any, Dict, Optional, Text

from rasa.core.featurizers.precomputation import MessageContainerForCoreFeaturization
from rasa.core.policies.policy import PolicyPrediction, SupportedData
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

logger = logging.getLogger(__name__)

# State sequences kept; each entry is one probability list over the domain's actions (a few KB).
# TED_CACHE_SIZE overrides it at start-up; 0 turns the cache off (bench/latency.py measures both).
CACHE_SIZE = 2048
REPORT_EVERY = 1000  # predictions between two INFO lines with the hit rate (ops see whether the cache works)


def cache_size() -> int:
    try:
        return max(0, int(os.environ.get("TED_CACHE_SIZE", CACHE_SIZE)))
    except ValueError:
        logger.warning("TED_CACHE_SIZE=%r is not a number: using %d", os.environ.get("TED_CACHE_SIZE"), CACHE_SIZE)
        return CACHE_SIZE


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class CachedTEDPolicy(TEDPolicy):
    """TEDPolicy, with its predictions looked up by their dialogue states before TensorFlow runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._predictions: "OrderedDict[str, PolicyPrediction]" = OrderedDict()
        self._lock = Lock()  # the graph may run in a worker thread; the dict is shared by all conversations
        self.size = cache_size()
        self.hits = 0
        self.misses = 0

    def cacheable(self) -> bool:
        """Only when the states are the whole input: no user text among TED's features."""
        return (self.size > 0 and self.model is not None and not self.only_e2e
                and TEXT not in (self.fake_features or {}))

    def state_key(self, tracker: DialogueStateTracker, domain: Domain,
                  rule_only_data: Optional[Dict[Text, Any]]) -> str:
        """The states TED featurises for this prediction (as ``Policy._featurize_for_prediction`` builds them)."""
        ml_only = self.supported_data() == SupportedData.ML_DATA
        states = self.featurizer.prediction_states([tracker], domain, use_text_for_last_user_input=False,
                                                   ignore_rule_only_turns=ml_only, rule_only_data=rule_only_data,
                                                   ignore_action_unlikely_intent=ml_only)[0]
        return json.dumps(states, sort_keys=True, ensure_ascii=False, default=list)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        precomputations: Optional[MessageContainerForCoreFeaturization] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if not self.cacheable():
            return super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
        key = self.state_key(tracker, domain, rule_only_data)
        with self._lock:
            known = self._predictions.get(key)
            if known is not None:
                self._predictions.move_to_end(key)
                self.hits += 1
        if known is not None:
            self._report()
            return self._prediction(list(known.probabilities), is_end_to_end_prediction=False,
                                    diagnostic_data=known.diagnostic_data)
        prediction = super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
        if not prediction.optional_events and not prediction.is_end_to_end_prediction:
            with self._lock:
                self.misses += 1
                self._predictions[key] = prediction
                if len(self._predictions) > self.size:
                    self._predictions.popitem(last=False)
        self._report()
        return prediction

    def _report(self) -> None:
        total = self.hits + self.misses
        if total % REPORT_EVERY == 0:
            logger.info("TED prediction cache: %d hits, %d misses (%.0f%% hits), %d state sequences kept",
                        self.hits, self.misses, 100 * self.hits / total, len(self._predictions))
