"""Training and held-out data stay honest: no held-out text in training, enough examples per intent."""
from __future__ import annotations

import collections
import re
import unicodedata
from pathlib import Path

import yaml
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parents[2]
BUSINESS = ["ask_interest_rate", "complain", "ask_prepayment", "check_progress", "ask_repayment", "ask_overdue",
            "ask_loan_limit", "ask_eligibility", "request_human", "cancel_loan", "account_service",
            "request_settlement_certificate", "report_fraud", "urgent_need"]


def _norm(text: str) -> str:
    return re.sub(r"[\s，。！？,.!?~～…、]+", "", unicodedata.normalize("NFKC", text)).lower()


def _domain_intents() -> list[str]:
    return yaml.safe_load((ROOT / "domain" / "core.yml").read_text(encoding="utf-8"))["intents"]


TRAIN = load_data(str(ROOT / "data" / "nlu")).intent_examples
HELDOUT = load_data(str(ROOT / "tests" / "nlu" / "heldout.yml")).intent_examples


def test_no_heldout_text_is_in_training_data():
    train = {_norm(e.get("text")) for e in TRAIN}
    leaked = [e.get("text") for e in HELDOUT if _norm(e.get("text")) in train]
    assert leaked == []


def test_every_business_intent_has_at_least_60_training_examples():
    counts = collections.Counter(e.get("intent") for e in TRAIN)
    assert {i: counts[i] for i in BUSINESS if counts[i] < 60} == {}


def test_heldout_covers_every_intent_with_300_or_more_utterances():
    counts = collections.Counter(e.get("intent") for e in HELDOUT)
    assert len(HELDOUT) >= 300
    assert set(counts) == set(_domain_intents())


def test_training_intents_match_the_domain():
    assert {e.get("intent") for e in TRAIN} == set(_domain_intents())
