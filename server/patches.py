"""Hardening applied to Rasa Open Source 3.6 before it starts (``python -m server run``).

Each patch was written against the installed Rasa 3.6.21 source; :func:`apply` checks the
version and refuses to patch a different minor version silently (it logs and skips).

1. **Action calls are capped** (``ACTION_TIMEOUT_S``, default 5 s instead of Rasa's
   300 s) and a failed or timed-out custom action produces a polite reply
   (``utter_service_unavailable``) instead of silence; the conversation goes on and
   works again as soon as the action server is back.  After one failure in a turn the
   remaining remote calls of that turn are skipped (one timeout per turn at most).  If
   ``action_session_start`` fails, the session still starts and the privacy notice is
   still sent.
2. **No silent turn**: a customer message that produced no bot message gets
   :data:`server.guard.NO_REPLY`, recorded in the tracker like any bot message.
3. **Tracker store failures are explicit**: Rasa's ``FailSafeTrackerStore`` returns
   ``None`` on a read error (the conversation silently restarts) and keeps the tracker
   in memory on a write error; here both raise :class:`server.guard.TrackerStoreUnavailable`
   and the customer gets :data:`server.guard.BUSY` (nothing is answered from an empty
   conversation).  Any other failure of a turn (lock store down, bug) is answered the
   same way, on every channel.  PostgreSQL connections are pre-pinged, so the store
   recovers by itself after a database restart.
4. **Personal data masked at rest** in the SQL tracker store (:mod:`server.at_rest`).
5. **REST channel access control** (:mod:`server.auth`) as Sanic middleware, plus the
   ``X-Degraded`` response header and a last-line ``ensure_reply`` on REST responses.
6. **Logs masked**: ``credit.masking.install_log_masking`` plus a structlog processor.
7. **Speed**: action server responses are validated against Rasa's events schema with a
   validator compiled once (Rasa re-checks the schema on every call, ~20 ms each); a
   SQLite tracker store runs in WAL mode (synchronous=FULL: still durable).
8. **Redis lock store made atomic** (:func:`patch_lock_store`): Rasa's ticket lock is a
   read-modify-write, so two servers could process one conversation at once and lose a turn.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from credit.masking import install_log_masking, mask_pii
from server import auth, guard
from server.at_rest import mask_event_dict
from server.settings import Settings

logger = logging.getLogger("server.hardening")

SUPPORTED_PREFIX = "3.6."
_applied: Dict[str, bool] = {}


# --------------------------------------------------------------------------- 1. actions


def _session_start_fallback(events_module: Any) -> List[Any]:
    from credit.compliance import PRIVACY_NOTICE

    return [
        events_module.BotUttered(PRIVACY_NOTICE, metadata={"guard": "session_start_fallback"}),
        events_module.SessionStarted(),
        events_module.ActionExecuted("action_listen"),
    ]


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


def patch_actions(settings: Settings) -> None:
    import rasa.core.actions.action as action_module
    import rasa.shared.core.events as events_module

    if _applied.get("actions"):
        return
    action_module.DEFAULT_REQUEST_TIMEOUT = settings.action_timeout_s
    original_run = action_module.RemoteAction.run
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
            return _session_start_fallback(events_module)
        events = await _apology(output_channel, nlg, tracker, "action_server")
        if name.startswith("validate_"):
            # never keep a value the form could not validate: the form asks for it again
            events += [events_module.SlotSet(slot, None)
                       for slot in _unvalidated_slots(tracker, name[len("validate_"):])]
        return events

    run._credit_hardened = True  # type: ignore[attr-defined]
    action_module.RemoteAction.run = run

    # Rasa validates every action server response with `jsonschema.validate`, which checks
    # the (large, constant) events schema itself first: ~20 ms per action call.  Same
    # validation with the validator compiled once.
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

    action_module.RemoteAction._validate_action_result = validate_action_result
    _applied["actions"] = True


# ---------------------------------------------------------------------- 2./3. processor


def _turn_has_bot_message(tracker: Any) -> bool:
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            if guard.is_visible({"text": event.text, **(event.data or {})}):
                return True
        elif isinstance(event, UserUttered):
            return False
    return False


async def _ensure_reply_on_tracker(processor: Any, tracker: Any, output_channel: Any) -> None:
    from rasa.shared.core.events import BotUttered

    if _turn_has_bot_message(tracker):
        return
    logger.warning("turn for %s produced no bot message: sending the no-reply message", tracker.sender_id)
    guard.mark_degraded("no_reply")
    event = BotUttered(guard.NO_REPLY, metadata={"guard": "no_reply"})
    tracker.update(event, processor.domain)
    await output_channel.send_response(tracker.sender_id, event.message())


async def _answer_busy(message: Any, reason: str) -> None:
    guard.mark_degraded(reason)
    channel = message.output_channel
    collected = getattr(channel, "messages", None)
    if isinstance(collected, list):
        # what was collected describes a turn that was never saved: do not show it
        collected.clear()
    try:
        await channel.send_response(message.sender_id, {"text": guard.BUSY})
    except Exception:  # noqa: BLE001
        logger.exception("could not deliver the busy message to %s", message.sender_id)


def patch_processor() -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor
    from rasa.shared.data import TrainingType

    if _applied.get("processor"):
        return

    async def handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        # Rasa 3.6.21 MessageProcessor.handle_message, plus the no-silence guard.
        tracker = await self.log_message(message, should_save_tracker=False)
        if self.model_metadata.training_type == TrainingType.NLU:
            await self.save_tracker(tracker)
            return None
        tracker = await self.run_action_extract_slots(message.output_channel, tracker)
        await self._run_prediction_loop(message.output_channel, tracker)
        await _ensure_reply_on_tracker(self, tracker, message.output_channel)
        await self.run_anonymization_pipeline(tracker)
        await self.save_tracker(tracker)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    original_agent_handle = Agent.handle_message

    async def agent_handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        token = guard.start_turn(message.sender_id or "")
        try:
            if not self.is_ready():
                logger.error("message for %s arrived before the model was loaded", message.sender_id)
                await _answer_busy(message, "not_ready")
            else:
                return await original_agent_handle(self, message)
        except asyncio.CancelledError:
            raise
        except guard.TrackerStoreUnavailable as error:
            logger.error("conversation %s not handled: tracker store unavailable (%s)", message.sender_id,
                         mask_pii(str(error.__cause__ or error))[:300])
            await _answer_busy(message, "tracker_store")
        except Exception as error:  # noqa: BLE001 - lock store down, bug: answer, never silence
            reason = "lock_store" if "lock" in type(error).__name__.lower() or "redis" in type(error).__module__ \
                else "internal_error"
            logger.exception("conversation %s not handled (%s)", message.sender_id, reason)
            await _answer_busy(message, reason)
        finally:
            guard.end_turn(token)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    handle_message._credit_hardened = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message
    Agent.handle_message = agent_handle_message
    _applied["processor"] = True


# ------------------------------------------------------------------ 3./4. tracker store


def patch_tracker_store() -> None:
    import rasa.core.tracker_store as ts

    if _applied.get("tracker_store"):
        return

    def _raise(self: Any, operation: str, error: Exception) -> None:
        try:
            self.on_tracker_store_error(error)
        except Exception:  # noqa: BLE001
            pass
        raise guard.TrackerStoreUnavailable(
            f"{operation} failed on {type(self._tracker_store).__name__}: {type(error).__name__}") from error

    async def retrieve(self: Any, sender_id: str) -> Any:
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as error:  # noqa: BLE001
            _raise(self, "retrieve", error)

    async def retrieve_full_tracker(self: Any, sender_id: str) -> Any:
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as error:  # noqa: BLE001
            _raise(self, "retrieve_full_tracker", error)

    async def save(self: Any, tracker: Any) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as error:  # noqa: BLE001
            _raise(self, "save", error)

    async def keys(self: Any) -> Any:
        try:
            return await self._tracker_store.keys()
        except Exception as error:  # noqa: BLE001
            _raise(self, "keys", error)

    def on_tracker_store_error(self: Any, error: Exception) -> None:
        logger.error("tracker store %s failed: %s: %s", type(self._tracker_store).__name__,
                     type(error).__name__, mask_pii(str(error))[:300])

    fail_safe = ts.FailSafeTrackerStore
    fail_safe.retrieve = retrieve
    fail_safe.retrieve_full_tracker = retrieve_full_tracker
    fail_safe.save = save
    fail_safe.keys = keys
    fail_safe.on_tracker_store_error = on_tracker_store_error
    fail_safe.on_tracker_store_retrieve_error = on_tracker_store_error

    original_kwargs = ts.create_engine_kwargs

    def create_engine_kwargs(url: Any) -> Dict[str, Any]:
        kwargs = dict(original_kwargs(url))
        kwargs.setdefault("pool_pre_ping", True)
        return kwargs

    ts.create_engine_kwargs = create_engine_kwargs

    original_init = ts.SQLTrackerStore.__init__

    def sql_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
                # WAL: one fsync per commit instead of two, readers never block the writer;
                # synchronous=FULL keeps every committed turn across a power cut too.
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute("PRAGMA journal_mode = WAL")
                    cursor.execute("PRAGMA synchronous = FULL")
                    cursor.execute("PRAGMA busy_timeout = 5000")
                finally:
                    cursor.close()

            self.engine.dispose()  # connections opened during start-up get the pragmas too

    ts.SQLTrackerStore.__init__ = sql_init

    def ensure_tables(store: Any) -> None:
        # Rasa creates the tables once at start-up and carries on if the database was down
        # then; create them (idempotent) before the first read or write instead.
        if not getattr(store, "_credit_tables_ready", False):
            store.Base.metadata.create_all(store.engine)
            store._credit_tables_ready = True

    original_retrieve = ts.SQLTrackerStore._retrieve

    async def sql_retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        ensure_tables(self)
        return await original_retrieve(self, sender_id, fetch_events_from_all_sessions)

    ts.SQLTrackerStore._retrieve = sql_retrieve

    async def sql_save(self: Any, tracker: Any) -> None:
        # Rasa 3.6.21 SQLTrackerStore.save, with personal data masked before it is written.
        ensure_tables(self)
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = mask_event_dict(event.as_dict())
                intent = (data.get("parse_data") or {}).get("intent", {}).get("name")
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=intent, action_name=data.get("name"), data=json.dumps(data)))
            session.commit()
        logger.debug("tracker %s stored (masked)", tracker.sender_id)

    sql_save._credit_hardened = True  # type: ignore[attr-defined]
    ts.SQLTrackerStore.save = sql_save
    _applied["tracker_store"] = True


# ---------------------------------------------------------------------- 8. lock store

# Release only our own lock (compare-and-delete).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def patch_lock_store() -> None:
    """Rasa's RedisLockStore issues tickets with GET, modify, SET: two Rasa servers taking
    messages of one conversation at the same moment can both believe they hold the lock,
    and the second tracker save then silently drops the other server's turn.  Here the
    lock is one atomic ``SET NX PX`` per conversation (released with compare-and-delete),
    polled every 20-200 ms; it expires after the lock lifetime if its holder died."""
    import random
    import time
    import uuid
    from contextlib import asynccontextmanager

    import rasa.core.lock_store as lock_module

    if _applied.get("lock_store"):
        return

    @asynccontextmanager
    async def lock(self: Any, conversation_id: str, lock_lifetime: float = lock_module.LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> Any:
        key = f"{self.key_prefix}mutex:{conversation_id}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + lock_lifetime + 5
        delay = 0.02
        try:
            while not self.red.set(key, token, nx=True, px=int(lock_lifetime * 1000)):
                if time.monotonic() > deadline:
                    raise lock_module.LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                await asyncio.sleep(delay + random.uniform(0, delay / 2))
                delay = min(delay * 1.5, 0.2)
        except lock_module.LockError:
            raise
        except Exception as error:  # redis down: a lock error, answered politely upstream
            raise lock_module.LockError(f"Error while acquiring lock. Error:\n{error}") from error
        try:
            yield lock_module.TicketLock(conversation_id)
        finally:
            try:
                self.red.eval(_RELEASE, 1, key, token)
            except Exception:  # noqa: BLE001 - the lock expires by itself
                logger.exception("could not release the lock of %s (it expires after %s s)",
                                 conversation_id, lock_lifetime)

    lock_module.RedisLockStore.lock = lock
    _applied["lock_store"] = True


# ------------------------------------------------------------------------ 5. HTTP app


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def install_middleware(app: Any, settings: Settings) -> None:
    """REST access control, the ``X-Degraded`` header and the REST no-silence guard."""
    from sanic import response as sanic_response

    async def on_request(request: Any) -> Any:
        request.ctx.credit = guard.start_request()
        route_path = getattr(getattr(request, "route", None), "path", None)
        if not auth.is_protected(request.path, route_path):
            return None
        decision = auth.decide(request.ip, request.headers, settings.rest_auth_token)
        if decision.allowed:
            return None
        logger.warning("REST %s %s refused for %s: %s", request.method, request.path, request.ip, decision.code)
        headers = {"WWW-Authenticate": 'Bearer realm="rest"'} if decision.status == 401 else {}
        return sanic_response.json(
            {"error": {"code": decision.code, "message": decision.message, "message_zh": decision.message_zh}},
            status=decision.status, headers=headers, ensure_ascii=False)

    async def on_response(request: Any, response: Any) -> Any:
        state: guard.RequestState = getattr(request.ctx, "credit", None) or guard.RequestState()
        reasons = list(state.degraded)
        replaced = None
        route_path = getattr(getattr(request, "route", None), "path", None)
        if (request.method == "POST" and auth.is_protected(request.path, route_path)
                and str(request.path).rstrip("/").endswith("/webhook")
                and getattr(response, "status", 0) not in (401, 403)
                and "event-stream" not in (getattr(response, "content_type", "") or "")):
            status = getattr(response, "status", 200)
            body = _json_body(getattr(response, "body", b"") or b"")
            sender = None
            payload = _json_body(request.body or b"")
            if isinstance(payload, dict) and isinstance(payload.get("sender"), str):
                sender = payload["sender"]
            if status >= 500 and state.turns == 0:
                # the channel failed before any dialogue turn: it could not read the request
                logger.warning("REST request refused: the channel could not read the body (%s)", status)
                replaced = sanic_response.json(
                    {"error": {"code": "bad_request", "message": "the request body could not be read",
                               "message_zh": "请求体无法解析，请发送 JSON 对象 {\"sender\": ..., \"message\": ...}"}},
                    status=400, ensure_ascii=False)
            elif status >= 500:
                reasons.append("internal_error")
                replaced = sanic_response.json(guard.ensure_reply([], sender, guard.BUSY), status=503,
                                               headers={"Retry-After": "5"}, ensure_ascii=False)
            elif status == 200 and isinstance(body, list) and not any(
                    isinstance(m, dict) and guard.is_visible(m) for m in body):
                reasons.append("no_reply")
                replaced = sanic_response.json(guard.ensure_reply(body, sender), ensure_ascii=False)
        target = replaced or response
        if reasons:
            try:
                target.headers["X-Degraded"] = ",".join(dict.fromkeys(reasons))
            except Exception:  # noqa: BLE001
                pass
        return replaced

    app.register_middleware(on_request, "request")
    app.register_middleware(on_response, "response")

    async def mask_logs_after_start(*_: Any) -> None:
        install_log_masking()  # handlers configured by Rasa/Sanic by now get the filter too

    app.register_listener(mask_logs_after_start, "after_server_start")


def patch_app(settings: Settings) -> None:
    import rasa.core.run as run_module

    if _applied.get("app"):
        return
    original_configure_app = run_module.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original_configure_app(*args, **kwargs)
        install_middleware(app, settings)
        return app

    run_module.configure_app = configure_app
    _applied["app"] = True


# ---------------------------------------------------------------------------- 6. logs


_JSON_SCALARS = (int, float, bool, type(None))


def _mask_log_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, dict):
        return {key: _mask_log_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_mask_log_value(item) for item in value]
    return mask_pii(str(value))  # events, trackers, ...: masked in their printed form


def _structlog_masker(_: Any, __: str, event_dict: Dict[str, Any]) -> Dict[str, Any]:
    # everything but the exception info (rendered later through the masked log record)
    return {key: (value if key in ("exc_info", "exception", "stack") else _mask_log_value(value))
            for key, value in event_dict.items()}


def patch_logging() -> None:
    import rasa.__main__ as rasa_main
    import rasa.utils.log_utils as log_utils

    install_log_masking()
    if _applied.get("logging"):
        return
    original: Callable[..., None] = log_utils.configure_structlog

    def configure_structlog(*args: Any, **kwargs: Any) -> None:
        import structlog

        original(*args, **kwargs)
        processors = list(structlog.get_config().get("processors", []))
        if _structlog_masker not in processors:
            processors.insert(max(len(processors) - 1, 0), _structlog_masker)
            if processors and isinstance(processors[-1], structlog.processors.JSONRenderer):
                # no \uXXXX escapes: an escape's hex digits next to a number would hide it from the masking
                processors[-1] = structlog.processors.JSONRenderer(ensure_ascii=False)
            structlog.configure(processors=processors)
        install_log_masking()

    log_utils.configure_structlog = configure_structlog
    rasa_main.configure_structlog = configure_structlog
    _applied["logging"] = True


# ----------------------------------------------------------------------------- apply


def apply(settings: Settings) -> List[str]:
    """Apply every patch; returns the names applied."""
    import rasa

    if not rasa.__version__.startswith(SUPPORTED_PREFIX):
        logger.error("hardening written for Rasa %sx, found %s: NOT applied", SUPPORTED_PREFIX, rasa.__version__)
        return []
    disabled = {name.strip() for name in os.environ.get("HARDENING_DISABLE", "").split(",") if name.strip()}
    steps: List[Tuple[str, Callable[[], None]]] = [
        ("logging", patch_logging), ("actions", lambda: patch_actions(settings)), ("processor", patch_processor),
        ("tracker_store", patch_tracker_store), ("lock_store", patch_lock_store), ("app", lambda: patch_app(settings)),
    ]
    for name, step in steps:
        if name in disabled:
            logger.warning("hardening step %r disabled by HARDENING_DISABLE (tests and measurements only)", name)
            continue
        step()
    return sorted(_applied)
