"""connectors/admission.py: accepted messages always finish; over the limit, refused before acceptance."""
from __future__ import annotations

import asyncio

from connectors.admission import STALE_AFTER_S, Admission


def test_the_limit_refuses_before_acceptance_and_done_frees_a_place():
    admission = Admission(limit=2)
    assert admission.try_accept("rest:a") and admission.try_accept("rest:a")
    assert not admission.try_accept("rest:a")  # third one refused
    assert admission.try_accept("rest:b")  # per sender
    admission.done("rest:a")
    assert admission.try_accept("rest:a")


def test_an_accepted_message_whose_end_is_never_reported_stops_counting():
    now = [0.0]
    admission = Admission(limit=1, clock=lambda: now[0])
    assert admission.try_accept("rest:a") and not admission.try_accept("rest:a")
    now[0] += STALE_AFTER_S + 1
    assert admission.try_accept("rest:a")  # never locked out for good


def test_an_accepted_turn_finishes_even_when_its_request_is_cancelled():
    finished = []

    async def turn() -> str:
        await asyncio.sleep(0.2)
        finished.append(True)
        return "stored"

    async def scenario() -> None:
        admission = Admission(limit=1)
        assert admission.try_accept("rest:a")
        request = asyncio.ensure_future(admission.run_accepted("rest:a", turn()))
        await asyncio.sleep(0.05)
        request.cancel()  # the client went away
        await asyncio.sleep(0.3)
        assert finished == [True]
        assert admission.in_flight("rest:a") == 0

    asyncio.run(scenario())
