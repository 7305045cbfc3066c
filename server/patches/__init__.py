"""Hardening patches applied to Rasa Open Source before it starts (``python -m server run``).

One module per concern, each registered in :data:`REGISTRY` under its step name with the
Rasa members it touches (see :mod:`server.patches.registry`):

| step | module | what |
|---|---|---|
| ``actions`` | :mod:`server.patches.actions` | action calls capped, failed actions answered politely |
| ``connections`` | :mod:`server.patches.connections` | one pooled HTTP session to the action server |
| ``app`` | :mod:`server.patches.app` | REST access control, ``X-Degraded``, no-silence (:mod:`server.middleware`) |
| ``lock_store`` | :mod:`server.patches.lock_store` | FIFO in-memory lock without polling; atomic Redis lock |
| ``logging`` | :mod:`server.patches.logs` | personal data masked in logs (:mod:`server.log_masking`) |
| ``output_guard`` | :mod:`server.patches.output` | every bot message checked before a channel gets it |
| ``processor`` | :mod:`server.patches.processor` | no silent turn; failed turns answered |
| ``replay`` | :mod:`server.patches.replay` | event classes found once; past states resumed as a session grows |
| ``sessions`` | :mod:`server.patches.sessions` | sessions bounded in length, carried over; reason given |
| ``tracker_store`` | :mod:`server.patches.tracker_store` | explicit store failures, masking at rest, SQLite WAL |

When they are applied and what stops start-up: :mod:`server.hardening`.
``python -m server.patches`` lists the steps and the Rasa members each touches.
"""
from __future__ import annotations

from server.patches import (  # noqa: F401 - registration
    actions,
    app,
    connections,
    lock_store,
    logs,
    output,
    processor,
    replay,
    sessions,
    tracker_store,
)
from server.patches.registry import APPLIED, REGISTRY, How, Member, Patch

__all__ = ["APPLIED", "REGISTRY", "How", "Member", "Patch"]
