"""The replay patch gives what Rasa gives: the same event classes, the same past states, on real
trackers of the project's domain, and never a stale or shared answer."""
from __future__ import annotations

from typing import Any, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from harness.paths import ROOT
from server.patches import replay
from server.patches.registry import original


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def _user(text: str, intent: str, entities: List[Any] = ()) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, list(entities))


def _tracker(domain: Domain) -> DialogueStateTracker:
    events = [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        _user("利息多少", "ask_rate"), ActionExecuted("action_answer_rate"), ActionExecuted("action_listen"),
        _user("查一下进度", "check_progress"), ActionExecuted("progress_form"), ActiveLoop("progress_form"),
        SlotSet("requested_slot", "application_id"), ActionExecuted("action_listen"),
        _user("SQ20260001", "inform"), SlotSet("application_id", "SQ20260001"),
        ActionExecuted("progress_form"), SlotSet("requested_slot", "id_last4"),
        ActionExecuted("action_listen"), _user("算了", "deny"), UserUtteranceReverted(),
        _user("1234", "inform"), ActionExecuted("progress_form"), ActiveLoop(None),
        SlotSet("requested_slot", None),
    ]
    return DialogueStateTracker.from_events("rest:replay", events, domain.slots)


FLAGS = [dict(), dict(omit_unset_slots=True), dict(ignore_rule_only_turns=True),
         dict(ignore_rule_only_turns=True, rule_only_data={"slots": ["requested_slot"], "loops": ["progress_form"]})]


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: ",".join(sorted(f)) or "plain")
def test_past_states_are_rasas_own(domain: Domain, flags: dict) -> None:
    remembered, rasa = replay._remembering(), original(replay.STATES)
    tracker = _tracker(domain)
    expected = rasa(domain, tracker, **flags)
    assert remembered(domain, tracker, **flags) == expected
    assert remembered(domain, tracker, **flags) == expected  # the remembered answer is the same


def test_a_caller_that_edits_its_states_does_not_change_the_next_callers(domain: Domain) -> None:
    remembered = replay._remembering()
    tracker = _tracker(domain)
    first = remembered(domain, tracker)
    expected = original(replay.STATES)(domain, tracker)
    # as the featurizer does with the last user state
    for state in first:
        for sub in state.values():
            sub.clear()
    first.pop()
    assert remembered(domain, tracker) == expected


def test_a_new_event_or_a_copy_is_a_new_tracker_state(domain: Domain) -> None:
    remembered, rasa = replay._remembering(), original(replay.STATES)
    tracker = _tracker(domain)
    before = remembered(domain, tracker)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(_user("还款日是几号", "ask_repayment"))
    after = remembered(domain, tracker)
    assert after == rasa(domain, tracker) and after != before
    copy = tracker.copy()
    copy.update(ActionExecuted("action_greet_back"))
    assert remembered(domain, copy) == rasa(domain, copy) != after
    assert remembered(domain, tracker) == after


def test_every_event_type_resolves_to_rasas_class_and_unknown_names_still_fail() -> None:
    resolve, rasa = replay._resolving(), original(replay.RESOLVE)
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "session_started", "active_loop"} <= names
    for name in sorted(names):
        assert resolve(name) is rasa(name)
        assert resolve(name) is rasa(name)  # remembered
    with pytest.raises(ValueError, match="Unknown event name"):
        resolve("no_such_event")
    assert resolve("no_such_event", SlotSet) is SlotSet
    assert resolve("topic") is None


def test_the_patch_is_installed_where_rasa_looks_it_up() -> None:
    import inspect

    import rasa.shared.core.events as events_module

    source = inspect.getsource(events_module.Event.from_parameters)
    assert "Event.resolve_by_type(" in source
    # the tracker asks the domain (the wrapped method) for its past states
    assert "domain.states_for_tracker_history(" in inspect.getsource(DialogueStateTracker.past_states)


def _conversations(domain: Domain) -> List[List[Event]]:
    """Every test story and training story of the project as the events of one conversation."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    files = sorted((ROOT / "tests" / "stories").glob("*.yml")) + sorted((ROOT / "data" / "stories").glob("*.yml"))
    out = []
    for path in files:
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            events = step.explicit_events(domain)
            if any(isinstance(e, ActionExecuted) for e in events):
                out.append([ActionExecuted("action_session_start"), SessionStarted(), *events])
    return out


def _from_store(tracker: DialogueStateTracker, domain: Domain) -> DialogueStateTracker:
    """The tracker as the tracker store gives it back at the next turn: every event rebuilt from its dict."""
    return DialogueStateTracker.from_dict(tracker.sender_id, [e.as_dict() for e in tracker.events], domain.slots)


def test_event_by_event_the_resumed_states_are_rasas_own(domain: Domain) -> None:
    """The conversation grows one event at a time (as in a turn), and at every customer message it is rebuilt
    from its dicts (as at the next turn): after every event, every flag set gives Rasa's states; and most of
    the answers were resumed, not replayed from the start."""
    remembered, rasa = replay._remembering(), original(replay.STATES)
    conversations = _conversations(domain)
    assert len(conversations) >= 30
    replay._REPLAYS.clear()
    before = dict(replay.STATS)
    for n, events in enumerate(conversations):
        tracker = DialogueStateTracker(f"rest:story-{n}", domain.slots)
        for event in events:
            if isinstance(event, UserUttered):
                tracker = _from_store(tracker, domain)
            tracker.update(event)
            for flags in FLAGS:
                assert remembered(domain, tracker, **flags) == rasa(domain, tracker, **flags), (n, event, flags)
    done = {k: replay.STATS[k] - before[k] for k in before}
    assert done["resumed"] > 3 * done["replayed"] and done["rebuilt"] > len(conversations), done


def test_a_history_that_rasa_rewinds_is_replayed_from_the_start(domain: Domain) -> None:
    remembered, rasa = replay._remembering(), original(replay.STATES)
    tracker = _tracker(domain)
    remembered(domain, tracker)
    for event in (ActionExecuted("action_listen"), _user("不对", "deny"), UserUtteranceReverted(),
                  ActionExecuted("progress_form"), ActiveLoop("complaint_form"), ActionExecuted("complaint_form"),
                  SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
        for flags in FLAGS:
            assert remembered(domain, tracker, **flags) == rasa(domain, tracker, **flags), (event, flags)


def test_a_value_rebuilt_differently_is_not_taken_for_the_original(domain: Domain) -> None:
    """The tracker store masks personal data at rest: an event rebuilt with another value (same timestamp)
    is another history, and the states follow it."""
    remembered, rasa = replay._remembering(), original(replay.STATES)
    tracker = _tracker(domain)
    tracker.update(SlotSet("next_step", "loan_form"))  # the one slot that is featurised
    remembered(domain, tracker)
    dicts = [e.as_dict() for e in tracker.events]
    dicts[-1]["value"] = "complaint_form"
    rebuilt = DialogueStateTracker.from_dict(tracker.sender_id, dicts, domain.slots)
    assert remembered(domain, rebuilt) == rasa(domain, rebuilt) != rasa(domain, tracker)
