"""The glue of issue 21: a goodbye on the phone still ends the call; a hesitation gets the warm close everywhere;
a term switch after a worked example recomputes it (actions/thread.py, actions/dialogue.py)."""
from __future__ import annotations

from actions.common import STATE_SLOT
from actions.dialogue import ActionClose, ActionHandleInform
from credit.dialogue.state import ConversationState, Example
from tests.unit.actions.action_kit import all_text, make_tracker, run, slots_of


def test_a_goodbye_on_the_phone_is_utter_goodbye_so_the_call_ends():
    messages, _ = run(ActionClose(), make_tracker(sender="tel:+8613800001234", text="再见", intent="goodbye"))
    assert messages[0].get("response") == "utter_goodbye"


def test_a_hesitation_gets_the_warm_close_with_the_way_back():
    for sender in ("rest:u1", "tel:+8613800001234"):
        messages, events = run(ActionClose(), make_tracker(sender=sender, text="我再想想", intent="goodbye"))
        assert "随时回来找我" in all_text(messages) and "400-820-8820" in all_text(messages)
        assert slots_of(events)[STATE_SLOT]["topic"] == "closing"


def test_another_term_recomputes_the_last_example_and_remembers_it():
    state = ConversationState(topic="rates", example=Example("suixinjie", 30000, 12, "equal_installment"))
    tracker = make_tracker(text="那换成24期呢", intent="inform", entities=[{"entity": "term", "value": "24"}],
                           slots={STATE_SLOT: state.to_slot(), "term": "24"})
    messages, events = run(ActionHandleInform(), tracker)
    assert "借3万元、分24期" in all_text(messages)
    assert slots_of(events)[STATE_SLOT]["example"]["term"] == 24
