"""Replies when a customer names another lender's product (entity ``other_lender``).

We say plainly that we are not that company and cannot see or change anything there, then, where
the same question applies to our own products, answer it for ours.  No comparison, no pitch.
Every text comes from ``other_lenders:`` in ``credit/catalogue.yml``.
"""

from __future__ import annotations

from collections.abc import Iterable

from credit.answers.texts import Reply
from credit.catalogue.loader import Catalogue

MAX_NAMED = 3  # "借呗、花呗、微粒贷" is still short; more would read like a list


def lender_phrase(lenders: Iterable[str]) -> str:
    """``["借呗", "花呗"]`` -> ``"借呗、花呗"`` (each once, at most :data:`MAX_NAMED`)."""
    unique: list[str] = []
    for name in lenders:
        if name and name not in unique:
            unique.append(name)
    return "、".join(unique[:MAX_NAMED])


def not_us_note(cat: Catalogue, lenders: Iterable[str], voice: bool = False) -> str:
    """"借呗不是我们的产品…" followed by the lead-in to our own answer; "" when no lender is named."""
    lender = lender_phrase(lenders)
    if not lender:
        return ""
    texts = cat.other_lenders
    if voice:
        return texts.not_us_voice.format(lender=lender, company=cat.company) + texts.ours_follow_voice
    return texts.not_us.format(lender=lender, company=cat.company) + "\n" + texts.ours_follow


def with_not_us(cat: Catalogue, reply: Reply, lenders: Iterable[str], voice: bool = False) -> Reply:
    """``reply`` (our answer) preceded by the not-us note when the customer named another lender."""
    note = not_us_note(cat, lenders, voice)
    if not note:
        return reply
    return Reply(note + ("" if voice else "\n") + reply.text, reply.buttons)


def identity_answer(cat: Catalogue, lenders: Iterable[str], voice: bool = False) -> Reply:
    """"你们是微粒贷吗": a clear no, who we are, and where their questions go."""
    lender = lender_phrase(lenders)
    texts = cat.other_lenders
    template = texts.identity_voice if voice else texts.identity
    return Reply(template.format(lender=lender or "其他平台", company=cat.company))


def progress_note(cat: Catalogue, lenders: Iterable[str]) -> str:
    """Before our progress check: not us, how long things take with us, and that we can check ours."""
    lender = lender_phrase(lenders)
    if not lender:
        return ""
    disbursement = "；".join(f"{p.name}{p.disbursement.rstrip('。')}" for p in cat.products)
    ours = cat.other_lenders.progress_ours.format(
        reviewing=cat.stage("reviewing").expected_time, disbursement=disbursement
    )
    return cat.other_lenders.not_us.format(lender=lender, company=cat.company) + "\n" + ours
