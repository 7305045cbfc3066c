"""Replay: the per-event costs of a turn are paid once, not once per event and per policy (issue 25).

A turn's cost grew with the length of the current session (up to ``SESSION_MAX_TURNS``
customer messages): a profile of the long conversation (docs/benchmarks.md, "Where a turn's
CPU goes within a session") put a third of the Rasa server's CPU in two places:

* ``Event.resolve_by_type``: the tracker store rebuilds every event of the session on each
  read, and for each one Rasa walks the whole ``Event`` class tree (``all_subclasses`` with
  ``inspect.isabstract`` on every class) to find the class of a type name.  Here a found class
  is remembered by its type name; an unknown name still goes to Rasa's code (same error, same
  default).
* ``Domain.states_for_tracker_history``: every prediction replays the whole session to build
  its states, and it is asked for the same tracker three or four times (the rule policy twice,
  memoization, TED's cache key), and again after every action of the turn.  Here it is a copy of
  Rasa 3.6.21's loop that keeps where it stopped, per conversation and set of flags: a tracker of the
  same conversation with more events (the same event objects, or events rebuilt by the tracker store
  with the same values) continues from there, so a turn replays only its own events.  Whenever Rasa's
  ``applied_events`` would not simply append the new events (a restart, a session start, a rewind, an
  undo, a new loop name, a loop's happy path folding its turn away) the whole history is replayed, as
  Rasa does.  Each caller gets its own copy of the states (the featurizer deletes keys in place).

Both give what Rasa gives; ``tests/unit/server/test_replay_patch.py`` checks that against the originals,
event by event, on the test stories' conversations.
"""
from __future__ import annotations

import itertools
import json
import operator
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)

from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

RESOLVE = Member("rasa.shared.core.events", "Event.resolve_by_type", How.WRAPPED,
                 "129504143e10fcd4e93c860c570541c18baeec92a7e051840d724d7da1a173ba")
STATES = Member("rasa.shared.core.domain", "Domain.states_for_tracker_history", How.COPIED,
                "0f67e21f0e6b4b14d5417fb09c1790648b4206fa40dd0a27e40286ed0ad67f12")
# what the resumable copy relies on: the replay it continues, the applied events it extends, the loop check
_TRACKERS = "rasa.shared.core.trackers"
PRIOR = Member(_TRACKERS, "DialogueStateTracker.generate_all_prior_trackers", How.USED,
                "b854e306c6122557deb84760340ecfb58e4fde295f5f96ee387c854c230dd979")
APPLIED = Member(_TRACKERS, "DialogueStateTracker.applied_events", How.USED,
                "40314cf8c4b0905dd0a1585ddf4ded7c281b9e9ec2829376fe9766e8dd462a94")
FIRST_LOOP = Member(_TRACKERS, "DialogueStateTracker._first_loop_execution_or_unhappy_path", How.USED,
                "c57ca073043c179b2c62e2c5cfc0187191876144cd7c34613305c56ef243b680")
INIT_COPY = Member(_TRACKERS, "DialogueStateTracker.init_copy", How.USED,
                "8f7a0018d63674d17065cf8bc810a1f3126dbffa138b8da08de67c002bad1112")
MEMBERS = (RESOLVE, STATES, PRIOR, APPLIED, FIRST_LOOP, INIT_COPY)



def _resolving() -> Any:
    resolve = original(RESOLVE)
    by_type: Dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Optional[Any] = None) -> Optional[Any]:
        known = by_type.get(type_name)
        if known is not None:
            return known
        found = resolve(type_name, default)
        if found is not None and found is not default and getattr(found, "type_name", None) == type_name:
            by_type[type_name] = found
        return found

    return resolve_by_type


def copy_states(states: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A state is a dict of sub-state dicts whose values are strings or tuples: two levels copy it all."""
    return [{name: dict(sub) if isinstance(sub, dict) else sub for name, sub in state.items()} for state in states]


# Events after which the applied events of a longer tracker are not the applied events of the shorter
# one plus the new events (Rasa's ``applied_events`` drops or rewinds earlier events), or which change an
# earlier event in place (``EntitiesAdded`` appends to the last message's entities): never resumed.
_REWINDING = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, EntitiesAdded)


def _fingerprint(event: Any) -> Tuple[Any, ...]:
    """What of an event can change the states: an event rebuilt from the tracker store with the same
    fingerprint replays to the same tracker state (the timestamp tells two events of one kind apart; a value
    masked at rest differs from the one in memory, so such an event is never taken for its original)."""
    if isinstance(event, SlotSet):
        return (SlotSet, event.timestamp, event.key, repr(event.value))
    if isinstance(event, UserUttered):
        # not use_text_for_featurization: the featurization event after it sets that on this very object
        return (UserUttered, event.timestamp, event.text, repr(event.intent), repr(event.entities))
    if isinstance(event, ActionExecuted):
        return (ActionExecuted, event.timestamp, event.action_name, event.action_text, event.hide_rule_turn)
    if isinstance(event, ActiveLoop):
        return (ActiveLoop, event.timestamp, event.name)
    if isinstance(event, DefinePrevUserUtteredFeaturization):
        return (DefinePrevUserUtteredFeaturization, event.timestamp, event.use_text_for_featurization)
    if isinstance(event, (FollowupAction, ActionExecutionRejected)):
        return (type(event), event.timestamp, event.action_name)
    if isinstance(event, LoopInterrupted):
        return (LoopInterrupted, event.timestamp, event.is_interrupted)
    if isinstance(event, (BotUttered, SessionStarted)):  # nothing of theirs is in a state
        return (type(event), event.timestamp)
    return (type(event), id(event))  # any other kind: only the very same object matches


class _Replay:
    """``Domain.states_for_tracker_history`` (Rasa 3.6.21) for one conversation and one set of flags, kept
    where it stopped: the applied events, the tracker they replay to, the states so far and the loop's two
    variables, so that a longer tracker of the same conversation continues from there."""

    __slots__ = ("domain", "rule_only_data", "flags", "source", "prints", "loop_names", "applied", "replayed",
                 "states", "last_ml", "hidden", "final")

    def __init__(self, domain: Any, tracker: Any, omit_unset_slots: bool, ignore_rule_only_turns: bool,
                 rule_only_data: Optional[Dict[str, Any]]) -> None:
        self.domain, self.rule_only_data = domain, rule_only_data
        self.flags = (omit_unset_slots, ignore_rule_only_turns)
        self.source: List[Any] = list(tracker.events)
        self.prints: Optional[List[Tuple[Any, ...]]] = None
        self.loop_names = {e.name for e in self.source if isinstance(e, ActiveLoop) and e.name}
        self.applied: List[Any] = []
        self.replayed = tracker.init_copy()
        self.states: List[Dict[str, Any]] = []
        self.last_ml: Any = None
        self.hidden = False
        self._apply(tracker.applied_events())

    def _step(self, tr: Any, hide_rule_turn: bool, states: List[Dict[str, Any]], last_ml: Any,
              hidden: bool) -> Tuple[Any, bool]:
        # the body of Rasa's loop over generate_all_prior_trackers(), unchanged
        domain, (omit_unset_slots, ignore_rule_only_turns) = self.domain, self.flags
        if ignore_rule_only_turns:
            if not hidden:
                last_ml = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                hidden = hide_rule_turn
            if hidden:
                return last_ml, hidden
        state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_ml:
                state[PREVIOUS_ACTION] = last_ml
        states.append(domain._clean_state(state))
        return last_ml, hidden

    def _apply(self, events: List[Any]) -> None:
        for event in events:
            if isinstance(event, ActionExecuted):
                self.last_ml, self.hidden = self._step(self.replayed, event.hide_rule_turn, self.states,
                                                       self.last_ml, self.hidden)
            self.replayed.update(event)
            self.applied.append(event)
        final = list(self.states[-1:])  # the last yield of generate_all_prior_trackers, not kept for resuming
        self._step(self.replayed, False, final, self.last_ml, self.hidden)
        self.final = final[1:] if self.states else final

    def answer(self) -> List[Dict[str, Any]]:
        return copy_states(self.states + self.final)

    def continues(self, tracker: Any) -> Optional[List[Any]]:
        """The events ``tracker`` has after the ones replayed here, or None when it is not this conversation
        grown (a shorter tracker, another history, an event rebuilt with other values)."""
        events = tracker.events
        n = len(self.source)
        if len(events) < n or _init_copy_key(tracker) != _init_copy_key(self.replayed):
            return None
        head = list(itertools.islice(events, n))
        if not all(map(operator.is_, head, self.source)):
            if self.prints is None:
                self.prints = [_fingerprint(e) for e in self.source]
            if [_fingerprint(e) for e in head] != self.prints:
                return None
            STATS["rebuilt"] += 1
        return list(itertools.islice(events, n, None))

    def resume(self, tracker: Any, new: List[Any]) -> bool:
        """Replay ``new`` on top, when Rasa's applied events of ``tracker`` are the ones here plus ``new``."""
        names = set(self.loop_names)
        applied = list(self.applied)
        for event in new:
            if isinstance(event, _REWINDING):
                return False
            if isinstance(event, ActiveLoop) and event.name and event.name not in names:
                return False  # a new loop name re-reads every earlier execution of that action
            if (isinstance(event, ActionExecuted) and event.action_name in names
                    and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
                return False  # the loop's happy path folds the turn away: Rasa undoes earlier events
            applied.append(event)
        self.source.extend(new)
        if self.prints is not None:
            self.prints.extend(_fingerprint(e) for e in new)
        self._apply(new)
        return True


_CONVERSATIONS_KEPT = 512  # (conversation, flags) kept; one conversation uses two or three flag sets
_LOCK = threading.Lock()  # the graph may run in a worker thread
_REPLAYS: "OrderedDict[Tuple[Any, ...], _Replay]" = OrderedDict()
# answers given from the same events, resumed, replayed from the start; and how often a conversation rebuilt by
# the tracker store was recognised (the next turn)
STATS = {"same": 0, "resumed": 0, "replayed": 0, "rebuilt": 0}


def _init_copy_key(tracker: Any) -> Tuple[Any, ...]:
    """What ``init_copy`` takes from a tracker (the slots come from the domain, the same for every tracker)."""
    return (tracker.sender_id, tracker._max_event_history, tracker.is_rule_tracker)


def _remembering() -> Any:
    def states_for_tracker_history(self: Any, tracker: Any, omit_unset_slots: bool = False,
                                   ignore_rule_only_turns: bool = False,
                                   rule_only_data: Optional[Dict[str, Any]] = None) -> List[Any]:
        # Rasa 3.6.21 Domain.states_for_tracker_history, resumable (see _Replay)
        # the rule-only data is a new (small) dict at every prediction: it is told apart by its contents
        rules = json.dumps(rule_only_data, sort_keys=True, default=repr) if rule_only_data else ""
        key = (tracker.sender_id, id(self), bool(omit_unset_slots), bool(ignore_rule_only_turns), rules)
        with _LOCK:
            known = _REPLAYS.get(key)
            if known is not None and known.domain is self:
                new = known.continues(tracker)
                if new is not None and (not new or known.resume(tracker, new)):
                    STATS["resumed" if new else "same"] += 1
                    _REPLAYS.move_to_end(key)
                    return known.answer()
            STATS["replayed"] += 1
            fresh = _REPLAYS[key] = _Replay(self, tracker, bool(omit_unset_slots), bool(ignore_rule_only_turns),
                                            rule_only_data)
            _REPLAYS.move_to_end(key)
            while len(_REPLAYS) > _CONVERSATIONS_KEPT:
                _REPLAYS.popitem(last=False)
            return fresh.answer()

    return states_for_tracker_history


@register("replay", MEMBERS)
def apply(settings: Settings) -> None:
    """Event classes found once by type name; a conversation's past states resumed where they stopped, not rebuilt."""
    replace(RESOLVE, staticmethod(_resolving()))
    replace(STATES, _remembering())
