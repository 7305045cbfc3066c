"""Sessions: a conversation session is bounded in length, and every session start says why.

Rasa works on the events of the *current session* only: the tracker store reads them, the
tracker replays them, every remote action call sends all of them to the action server, and
the policies featurise them.  So a turn's cost grows with the session's length (a
200-turn conversation made each turn ~9× dearer).  Here a new session also starts when the
current one already holds ``SESSION_MAX_TURNS`` customer messages; the custom
``action_session_start`` (actions/session.py) then carries *everything* over: every slot
(verification, complaint counter, form slots, context such as product and amount) and the
active form.  The full history stays in the tracker store (all sessions) for audit and the
ops export; only the working tracker is bounded.

Every session start gets ``session_started_metadata.session_reason``:

* ``new``: the conversation's first session;
* ``expired``: the customer wrote again after ``session_expiration_time`` minutes;
* ``length``: the bound above (nothing is lost, nothing is said).

A session started without an output channel (``trigger_intent``: an outreach notice written into the
conversation) also gets ``started_by: assistant``.

``MessageProcessor._update_tracker_session`` is a copy of Rasa 3.6.21's with the length
check and the reason added.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from server.patches.registry import How, Member, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

UPDATE_SESSION = Member("rasa.core.processor", "MessageProcessor._update_tracker_session", How.COPIED,
                        "fb74851440ae087c15193fe5bad856003af6a59eab1b7941bf91caa3cddc25f4")
SESSION_EXPIRED = Member("rasa.core.processor", "MessageProcessor._has_session_expired", How.USED,
                         "e93eb1af245f6b951a11d52e675447c28df18c9bd507557ab95ae3257e1c8bb2")
MEMBERS = (UPDATE_SESSION, SESSION_EXPIRED)

REASON_KEY = "session_reason"
STARTED_BY_KEY, ASSISTANT = "started_by", "assistant"  # read by credit/session_carry.py
NEW, EXPIRED, LENGTH = "new", "expired", "length"


def turns_in_session(tracker: Any) -> int:
    """Customer messages since the session's start (the tracker holds the current session)."""
    from rasa.shared.core.events import SessionStarted, UserUttered

    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        if isinstance(event, UserUttered):
            count += 1
    return count


def session_reason(processor: Any, tracker: Any, max_turns: int) -> Optional[str]:
    """Why a new session must start before the next message, or None."""
    if not tracker.applied_events():
        return NEW
    if processor._has_session_expired(tracker):
        return EXPIRED
    if turns_in_session(tracker) >= max_turns:
        return LENGTH
    return None


def _bounded_update(settings: Settings) -> Any:
    max_turns = settings.session_max_turns

    async def update_tracker_session(self: Any, tracker: Any, output_channel: Any,
                                     metadata: Optional[Dict] = None) -> None:
        # Rasa 3.6.21 MessageProcessor._update_tracker_session + the length bound and the reason
        from rasa.core.policies.policy import PolicyPrediction
        from rasa.shared.core.constants import ACTION_SESSION_START_NAME, SESSION_START_METADATA_SLOT
        from rasa.shared.core.events import SlotSet

        reason = session_reason(self, tracker, max_turns)
        if reason is None:
            return
        logger.debug("starting a new session for %s (%s)", tracker.sender_id, reason)
        action_session_start = self._get_action(ACTION_SESSION_START_NAME)
        # No output channel: the session is started by the assistant's own side (an outreach notice through
        # trigger_intent), not by a customer's message; the session start then shows no privacy line.
        by = {STARTED_BY_KEY: ASSISTANT} if output_channel is None else {}
        tracker.update(SlotSet(SESSION_START_METADATA_SLOT, {**(metadata or {}), REASON_KEY: reason, **by}),
                       self.domain)
        await self._run_action(
            action=action_session_start,
            tracker=tracker,
            output_channel=output_channel,
            nlg=self.nlg,
            prediction=PolicyPrediction.for_action_name(self.domain, ACTION_SESSION_START_NAME),
        )

    return update_tracker_session


@register("sessions", MEMBERS)
def apply(settings: Settings) -> None:
    """A session ends after SESSION_MAX_TURNS customer messages too; the next carries everything over."""
    replace(UPDATE_SESSION, _bounded_update(settings))
