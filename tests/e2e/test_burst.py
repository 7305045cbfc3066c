"""One sender's burst through REST: every accepted message is processed and stored; a message
over the sender's queue limit is refused with 429 + Retry-After *before* it is accepted
(connectors/admission.py, the in-memory FIFO lock in server/patches/lock_store.py)."""
from __future__ import annotations

import pytest

from bench.burst import burst, summarise, texts
from harness.procs import wait_until

pytestmark = pytest.mark.slow


def stored(assistant, sender: str) -> list:
    return [e["text"] for e in assistant.user_turns(assistant.rest_id(sender))]


def test_a_burst_of_30_from_one_sender_is_all_answered_and_stored(stack, sender):
    messages = texts(30, "你好")
    rows = burst(stack.rasa_url, sender, messages, client_timeout=60)
    summary = summarise("ours", rows, stored(stack, sender))
    assert summary["answered_200"] == 30 and summary["lost"] == []
    assert sorted(stored(stack, sender)) == sorted(messages)


def test_a_client_that_gives_up_does_not_lose_its_message(stack, sender):
    # one sender's turns run one after the other: 24 of them (each a custom action, a save with fsync) take far
    # longer than 0.05 s, so the later clients leave before their answer (12 turns in 0.2 s no longer did)
    messages = texts(24, "利息多少")
    rows = burst(stack.rasa_url, sender, messages, client_timeout=0.05)
    assert any(r["status"] == 0 for r in rows)
    wait_until(lambda: len(stored(stack, sender)) == 24, timeout=60,
               what="every accepted message stored")
    assert sorted(stored(stack, sender)) == sorted(messages)


def test_over_the_queue_limit_a_message_is_refused_before_it_is_accepted(start_stack, sender):
    limited = start_stack({"REST_MAX_QUEUED_PER_SENDER": "2"}, name="limited")
    rows = burst(limited.rasa_url, sender, texts(10, "你好"), client_timeout=60)
    refused = [r for r in rows if r["status"] == 429]
    accepted = [r for r in rows if r["status"] == 200]
    assert refused and accepted and len(refused) + len(accepted) == 10
    assert all(r["retry_after"] == "2" and "sender_busy" in r["body"] for r in refused)
    kept = stored(limited, sender)
    assert sorted(kept) == sorted(r["text"] for r in accepted)  # refused ones were never accepted
    # the sender can go on afterwards: the queue is empty again
    assert limited.rest(sender, "谢谢")
