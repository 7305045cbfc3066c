"""Actions: calls to the action server are capped, and a failed call gets a polite reply.

Rasa waits up to 300 s for the action server and answers nothing when a custom action
fails.  Here a call is capped at ``ACTION_TIMEOUT_S`` (default 5 s), and a failed or
timed-out action produces ``utter_service_unavailable`` (:data:`server.guard.ACTION_FAILED`
when the domain has no such response) once per turn; after one failure the remaining
remote calls of that turn are skipped (one timeout per turn at most).  A failed
``action_session_start`` still starts the session (carry-over and notice as the action would);
a failed form
validation never keeps the value it could not validate.

Speed: Rasa validates every action server response with ``jsonschema.validate``, which
re-checks the (large, constant) events schema first, ~20 ms per call; the same validation
runs here with a validator compiled once.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from credit.text.masking import mask_pii
from server import guard
from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

_MODULE = "rasa.core.actions.action"
TIMEOUT = Member(_MODULE, "DEFAULT_REQUEST_TIMEOUT", How.VALUE,
                 "983bd614bb5afece5ab3b6023f71147cd7b6bc2314f9d27af7422541c6558389")
RUN = Member(_MODULE, "RemoteAction.run", How.WRAPPED,
             "3f631ba720783ef98e2ff1e8a18388451080a64fa05d1970937425e0d3e7ee65")
VALIDATE = Member(_MODULE, "RemoteAction._validate_action_result", How.COPIED,
                  "c33d1616a7e5e86dc9097ade70f83c60980202c3c6237534b89b279438f5a398")
MEMBERS = (TIMEOUT, RUN, VALIDATE)


def _session_start_fallback(events_module: Any, tracker: Any, domain: Any) -> List[Any]:
    """The session start the action server would have made (credit/session_carry.py)."""
    from credit.compliance import PRIVACY_NOTICE_SHORT
    from credit.session_carry import SESSION_METADATA_SLOT, carry_over, reason_of, started_by_customer

    metadata = tracker.get_slot(SESSION_METADATA_SLOT)
    carry = carry_over(
        reason_of(metadata), tracker.current_slot_values(), tracker.active_loop_name,
        spoken_before=any(isinstance(e, (events_module.UserUttered, events_module.BotUttered)) for e in tracker.events),
        carry_all=bool(domain.session_config.carry_over_slots), by_customer=started_by_customer(metadata))
    events: List[Any] = []
    if carry.privacy_notice:
        events.append(events_module.BotUttered(PRIVACY_NOTICE_SHORT, metadata={"guard": "session_start_fallback"}))
    events.append(events_module.SessionStarted())
    events += [events_module.SlotSet(name, value) for name, value in carry.slots.items()]
    if carry.active_loop:
        events.append(events_module.ActiveLoop(carry.active_loop))
    events.append(events_module.ActionExecuted("action_listen"))
    return events


async def _apology(output_channel: Any, nlg: Any, tracker: Any, reason: str) -> List[Any]:
    """The polite reply for a failed action, once per turn."""
    from rasa.shared.core.events import BotUttered

    turn = guard.current_turn()
    guard.mark_degraded(reason)
    if turn is not None:
        if turn.apologised:
            return []
        turn.apologised = True
    text: Optional[str] = None
    data: Dict[str, Any] = {}
    try:
        draft = await nlg.generate(guard.ACTION_FAILED_RESPONSE, tracker, output_channel.name())
        if draft and draft.get("text"):
            text = draft["text"]
            data = {k: draft.get(k) for k in ("buttons", "quick_replies", "custom") if draft.get(k)}
    except Exception:  # noqa: BLE001 - fall back to the built-in text
        logger.debug("no %s response; using the built-in text", guard.ACTION_FAILED_RESPONSE)
    return [BotUttered(text or guard.ACTION_FAILED, data=data or None,
                       metadata={"guard": reason, "utter_action": guard.ACTION_FAILED_RESPONSE})]


def _unvalidated_slots(tracker: Any, form_name: str) -> List[str]:
    """Slots the form passed to its validation action in this call (Rasa's FormAction
    appends them after ``ActionExecuted(<form>)`` on the temporary tracker it sends)."""
    from rasa.shared.core.events import ActionExecuted, SlotSet

    names: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            if event.action_name == form_name:
                return names
            break
        if isinstance(event, SlotSet) and event.key != "requested_slot" and event.value is not None:
            names.append(event.key)
    return []


def _capped_run(settings: Settings) -> Any:
    import rasa.core.actions.action as action_module
    import rasa.shared.core.events as events_module

    original_run = original(RUN)
    hard_limit = settings.action_timeout_s + 1.0

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        name = self.name()
        turn = guard.current_turn()
        if turn is not None and turn.action_server_failed:
            logger.warning("action %s skipped: the action server already failed in this turn", name)
            failed = True
        else:
            failed = False
            try:
                return await asyncio.wait_for(original_run(self, output_channel, nlg, tracker, domain), hard_limit)
            except action_module.ActionExecutionRejection:
                raise
            except asyncio.TimeoutError:
                logger.error("action %s: no answer from the action server within %.1f s", name,
                             settings.action_timeout_s)
                failed = True
            except Exception as error:  # noqa: BLE001 - the customer must never get silence
                logger.error("action %s failed: %s: %s", name, type(error).__name__,
                             mask_pii(str(error))[:300], exc_info=logger.isEnabledFor(logging.DEBUG))
                failed = True
        if turn is not None and failed:
            turn.action_server_failed = True
        guard.mark_degraded("action_server")
        if name == "action_session_start":
            # the session starts anyway, with the privacy notice; the apology comes with
            # the first action of the turn that needs the action server
            return _session_start_fallback(events_module, tracker, domain)
        events = await _apology(output_channel, nlg, tracker, "action_server")
        if name.startswith("validate_"):
            # never keep a value the form could not validate: the form asks for it again
            events += [events_module.SlotSet(slot, None)
                       for slot in _unvalidated_slots(tracker, name[len("validate_"):])]
        return events

    run._credit_hardened = True  # type: ignore[attr-defined]
    return run


def _compiled_validator() -> Any:
    """Rasa 3.6.21 ``RemoteAction._validate_action_result`` with the validator compiled once."""
    import rasa.core.actions.action as action_module
    from jsonschema import ValidationError, validators

    schema = action_module.RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (". Failed to validate Action server response from API, make sure your response from "
                          "the Action endpoint is valid.")
            raise e

    return validate_action_result


@register("actions", MEMBERS)
def apply(settings: Settings) -> None:
    """Action-server calls capped at ACTION_TIMEOUT_S; a failed action gets a polite reply, once per turn."""
    replace(TIMEOUT, settings.action_timeout_s)
    replace(RUN, _capped_run(settings))
    replace(VALIDATE, _compiled_validator())
