"""The TED prediction cache (nlu_components/cached_ted.py, issue 25) on the trained dev model: for every
step of every test story, the cached prediction is exactly the one TensorFlow gives, the second lookup is
a hit, and the Rasa members the cache relies on are still the code it was written against (3.6.21).
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from rasa.core.agent import Agent
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies.policy import Policy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph

from nlu_components.cached_ted import CachedTEDPolicy
from server.patches.fingerprint import source_fingerprint

ROOT = Path(__file__).resolve().parents[2]

# The members CachedTEDPolicy relies on (its states must be the ones TED featurises), as in Rasa 3.6.21.
RELIED_ON = {
    "TEDPolicy.predict_action_probabilities": (
        TEDPolicy.predict_action_probabilities, "a9ebd4565e8a9ccc07e8c6e03f4856345930fddbb8e1f17e12e761f41efc71ac"),
    "TEDPolicy._featurize_tracker": (
        TEDPolicy._featurize_tracker, "004408041335d07e1acd833d5ac7c29712cfb8048fb6d8ae6653167b48f42248"),
    "Policy._featurize_for_prediction": (
        Policy._featurize_for_prediction, "5369413ef16242ff5ce6db7d089c280fc44161d7bf437ac45031ec57e1f01d4a"),
    "MaxHistoryTrackerFeaturizer.prediction_states": (
        MaxHistoryTrackerFeaturizer.prediction_states,
        "db887105f7c4cdaac1a8b79b44b2aab703c25a132eba057fa19e0234e2dac53f"),
}


@pytest.fixture(scope="module")
def loaded(model_path: Path) -> Iterator[Tuple[CachedTEDPolicy, Domain]]:
    agent = Agent.load(str(model_path))
    nodes = agent.processor.graph_runner._instantiated_nodes  # noqa: SLF001 - the loaded policy object
    policies = [n._component for n in nodes.values() if isinstance(n._component, CachedTEDPolicy)]  # noqa: SLF001
    assert len(policies) == 1, "config.yml should load exactly one CachedTEDPolicy"
    yield policies[0], agent.domain


def _steps(domain: Domain) -> List[DialogueStateTracker]:
    """Every point of every test story where an action is predicted."""
    steps = YAMLStoryReader(domain).read_from_file(ROOT / "tests" / "stories" / "test_thread.yml")
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0,
                                     use_story_concatenation=False).generate()
    out: List[DialogueStateTracker] = []
    for tracker in trackers:
        events = list(tracker.events)
        for i, event in enumerate(events):
            if isinstance(event, ActionExecuted) and i > 0:
                out.append(DialogueStateTracker.from_events(tracker.sender_id, events[:i], domain.slots))
    return out


def test_cache_returns_exactly_the_models_prediction_and_hits_the_second_time(loaded) -> None:
    policy, domain = loaded
    assert policy.cacheable(), "the dev model has no text features in TED: the cache must be on"
    steps = _steps(domain)
    assert len(steps) > 20
    for tracker in steps:
        fresh = TEDPolicy.predict_action_probabilities(policy, tracker, domain)  # TensorFlow, no cache
        first = policy.predict_action_probabilities(tracker, domain)
        hits = policy.hits
        second = policy.predict_action_probabilities(tracker, domain)
        assert policy.hits == hits + 1
        assert first.probabilities == pytest.approx(fresh.probabilities, abs=1e-6)
        assert second.probabilities == first.probabilities
        assert second.policy_name == fresh.policy_name and second.policy_priority == fresh.policy_priority


def test_different_states_are_different_keys(loaded) -> None:
    policy, domain = loaded
    keys = {policy.state_key(t, domain, None) for t in _steps(domain)}
    assert len(keys) > 10


@pytest.mark.parametrize("name", sorted(RELIED_ON))
def test_relied_on_rasa_members_are_unchanged(name: str) -> None:
    member, recorded = RELIED_ON[name]
    assert source_fingerprint(inspect.getsource(member)) == recorded, (
        f"Rasa's {name} changed: check that CachedTEDPolicy.state_key still builds the states TED featurises, "
        "then record the new fingerprint")
