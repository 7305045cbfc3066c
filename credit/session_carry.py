"""What a new conversation session keeps of the previous one (one rule for the action server
and for Rasa's fallback when the action server is down).

* ``length`` (the session reached SESSION_MAX_TURNS; the conversation goes on): every slot and
  the active form, no notice;
* ``expired`` (the customer came back after the idle time): the complaint counter and the conversation state
  (the customer's facts and the topic; without the verified application), and every
  slot only when the domain's ``carry_over_slots_to_new_session`` is true; verification is
  therefore asked again after an idle hour;
* ``new``: nothing to carry; the privacy notice opens the conversation.

The privacy notice is shown once per conversation: only when nothing was said before, and only in a
session the customer started (``started_by: assistant`` marks one started by an outreach notice written
into the conversation; the customer did not write, so nothing is said to them then).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

SESSION_METADATA_SLOT = "session_started_metadata"
REASONS = ("new", "expired", "length")
# the complaint counter, and the conversation state (the customer's facts and the topic, credit/dialogue/state.py)
ALWAYS_CARRIED = ("complaint_count", "dialogue_state")
# what a carried slot forgets after the idle time: a verification is asked again
DROPPED_AFTER_IDLE = {"dialogue_state": ("verified_application",)}


@dataclass(frozen=True)
class SessionCarry:
    slots: Dict[str, Any] = field(default_factory=dict)
    active_loop: Optional[str] = None
    privacy_notice: bool = False


def reason_of(metadata: Any) -> str:
    """The session start's reason from ``session_started_metadata`` (``new`` when absent)."""
    reason = metadata.get("session_reason") if isinstance(metadata, Mapping) else None
    return reason if reason in REASONS else "new"


def started_by_customer(metadata: Any) -> bool:
    return not (isinstance(metadata, Mapping) and metadata.get("started_by") == "assistant")


def carry_over(reason: str, slots: Mapping[str, Any], active_loop: Optional[str], spoken_before: bool,
               carry_all: bool, by_customer: bool = True) -> SessionCarry:
    names = list(slots) if reason == "length" or carry_all else list(ALWAYS_CARRIED)
    kept = {name: slots[name] for name in names
            if name in slots and name != SESSION_METADATA_SLOT and slots[name] is not None}
    if reason != "length":
        for name, dropped in DROPPED_AFTER_IDLE.items():
            if isinstance(kept.get(name), Mapping):
                kept[name] = {k: v for k, v in kept[name].items() if k not in dropped}
    return SessionCarry(slots=kept,
                        active_loop=active_loop if reason == "length" else None,
                        privacy_notice=reason != "length" and not spoken_before and by_customer)
