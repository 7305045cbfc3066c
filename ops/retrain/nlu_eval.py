"""NLU evaluation helpers: held-out loading, scoring, an in-process Rasa predictor, tables.

Importable without side effects (Rasa / TensorFlow are imported lazily).

    from ops.retrain.nlu_eval import load_examples, RasaPredictor, evaluate, markdown_table
    examples = load_examples("tests/nlu/heldout.yml")
    predicted = RasaPredictor("models/dev/<hash>.tar.gz").predict([t for t, _ in examples])
    report = evaluate([(gold, pred) for (_, gold), pred in zip(examples, predicted)])

Scoring rules: a prediction of ``nlu_fallback`` (or no intent at all) is a miss in every
figure: it counts as wrong for accuracy and as a false negative for the gold intent's
recall; it is never dropped from the denominator. Macro-F1 is the unweighted mean of the
per-intent F1 over the intents present in the gold labels.
"""

from __future__ import annotations

import asyncio
import logging
import os
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple, Union

FALLBACK_INTENT = "nlu_fallback"
NO_INTENT = "<none>"

PathLike = Union[str, Path]


@dataclass(frozen=True)
class IntentScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    per_intent: Dict[str, IntentScore]
    confusions: List[Tuple[str, str, int]] = field(default_factory=list)  # (gold, predicted, count), most first
    fallbacks: int = 0  # predictions of nlu_fallback (all counted as misses)

    def top_confusions(self, k: int = 10) -> List[Tuple[str, str, int]]:
        return self.confusions[:k]


def load_examples(path: PathLike) -> List[Tuple[str, str]]:
    """(text, gold intent) for every intent example in a Rasa NLU file or directory."""
    from rasa.shared.nlu.training_data.loading import load_data

    from nlu_components.intent_classifier import EXTERNAL_PREFIX

    data = load_data(str(path))  # outreach-only intents are no customer's words: no system learns them
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples
            if not str(m.get("intent")).startswith(EXTERNAL_PREFIX)]


@dataclass(frozen=True)
class Labelled:
    """One evaluation message: its first label, every acceptable label, and its slice tags."""

    text: str
    gold: str
    accept: Tuple[str, ...]
    tags: Tuple[str, ...] = ()


def load_labelled(path: PathLike) -> List[Labelled]:
    """Examples with ``metadata.accept`` / ``metadata.tags`` (tests/nlu/wild_*.yml); plain sets work too."""
    from rasa.shared.nlu.training_data.loading import load_data

    out = []
    for m in load_data(str(path)).intent_examples:
        meta = (m.get("metadata") or {}).get("example") or {}
        gold = m.get("intent")
        accept = tuple(dict.fromkeys([gold, *(meta.get("accept") or [])]))
        out.append(Labelled(m.get("text"), gold, accept, tuple(meta.get("tags") or ())))
    return out


@dataclass(frozen=True)
class SetScore:
    """Figures of one system on one labelled set (nlu_fallback is a miss everywhere)."""

    report: Report
    accuracy_any: float  # prediction in the example's accepted labels
    lost: float  # share of business-intent messages answered nlu_fallback or out_of_scope
    slices: Dict[str, Tuple[float, int]]  # tag -> (first-label accuracy, n)


def score_set(examples: Sequence[Labelled], predicted: Sequence[str], business: Iterable[str],
              slices: Sequence[str] = ("typo", "other_lender", "voice", "long", "traditional", "emoticon")
              ) -> SetScore:
    if len(examples) != len(predicted):
        raise ValueError("one prediction per example")
    business = set(business)
    report = evaluate((e.gold, p) for e, p in zip(examples, predicted, strict=True))
    any_ok = sum(p in e.accept for e, p in zip(examples, predicted, strict=True)) / len(examples)
    biz = [(e, p) for e, p in zip(examples, predicted, strict=True) if e.gold in business]
    lost = _safe_div(sum(p in (FALLBACK_INTENT, "out_of_scope", NO_INTENT) for _, p in biz), len(biz))
    by_tag: Dict[str, Tuple[float, int]] = {}
    for tag in slices:
        rows = [(e, p) for e, p in zip(examples, predicted, strict=True) if tag in e.tags]
        if rows:
            by_tag[tag] = (sum(e.gold == p for e, p in rows) / len(rows), len(rows))
    return SetScore(report, any_ok, lost, by_tag)


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def evaluate(pairs: Iterable[Tuple[str, str | None]]) -> Report:
    """Score (gold, predicted) pairs. ``nlu_fallback``/None predictions are misses."""
    pairs = [(gold, pred if pred else NO_INTENT) for gold, pred in pairs]
    if not pairs:
        raise ValueError("nothing to evaluate")
    gold_counts = Counter(g for g, _ in pairs)
    pred_counts = Counter(p for _, p in pairs)
    correct = Counter(g for g, p in pairs if g == p)
    per_intent: Dict[str, IntentScore] = {}
    for intent in sorted(gold_counts):
        tp = correct[intent]
        precision = _safe_div(tp, pred_counts[intent])
        recall = _safe_div(tp, gold_counts[intent])
        f1 = _safe_div(2 * precision * recall, precision + recall)
        per_intent[intent] = IntentScore(precision, recall, f1, gold_counts[intent])
    confusions = Counter((g, p) for g, p in pairs if g != p)
    ordered = sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))
    return Report(
        n=len(pairs),
        accuracy=sum(correct.values()) / len(pairs),
        macro_f1=sum(s.f1 for s in per_intent.values()) / len(per_intent),
        per_intent=per_intent,
        confusions=[(g, p, c) for (g, p), c in ordered],
        fallbacks=pred_counts[FALLBACK_INTENT],
    )


class RasaPredictor:
    """Loads a trained Rasa model in-process and predicts intents with the full NLU
    pipeline (tokenizer, featurizers, DIET, FallbackClassifier, ...)."""

    def __init__(self, model_path: PathLike) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        logging.getLogger("rasa").setLevel(logging.WARNING)
        import structlog
        from rasa.core.agent import Agent

        # Rasa 3.6 logs every parse at debug level through structlog; keep warnings only.
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

        self.model_path = Path(model_path)
        if not self.model_path.exists():
            raise FileNotFoundError(self.model_path)
        self.agent = Agent.load(str(self.model_path))
        if not self.agent.is_ready():
            raise RuntimeError(f"model {self.model_path} could not be loaded")

    async def _parse_all(self, texts: Sequence[str]) -> List[Dict[str, Any]]:
        return list(await asyncio.gather(*(self.agent.parse_message(t) for t in texts)))

    def parse(self, texts: Sequence[str]) -> List[Dict[str, Any]]:
        """Full parse data (intent, intent_ranking, entities) for each text."""
        return asyncio.run(self._parse_all(list(texts)))

    def predict(self, texts: Sequence[str]) -> List[str]:
        """Top intent name per text (``nlu_fallback`` when the FallbackClassifier fires)."""
        return [(p.get("intent") or {}).get("name") or NO_INTENT for p in self.parse(texts)]


def normalise(text: str) -> str:
    """NFKC, lower-case, letters and digits only (drops spaces, punctuation, emoji) when any remain."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return kept or "".join(text.split())  # emoji/punctuation-only messages compare as they are


def _trigrams(text: str) -> set:
    return {text[i:i + 3] for i in range(max(1, len(text) - 2))}


def overlaps(train_texts: Iterable[str], heldout_texts: Iterable[str],
             near: float = 0.6, min_len: int = 6) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str, float]]]:
    """Contamination check between training and held-out texts.

    Returns (exact, near_duplicates): exact = (train, held-out) pairs equal after
    :func:`normalise`; near = pairs of normalised length >= min_len whose character-trigram
    Jaccard similarity is >= near (short, common phrases coincide naturally and are skipped).
    """
    held = [(h, normalise(h)) for h in heldout_texts]
    by_norm: Dict[str, str] = {n: h for h, n in held}
    held_grams = [(h, n, _trigrams(n)) for h, n in held if len(n) >= min_len]
    exact: List[Tuple[str, str]] = []
    close: List[Tuple[str, str, float]] = []
    for t in train_texts:
        n = normalise(t)
        if n in by_norm:
            exact.append((t, by_norm[n]))
            continue
        if len(n) < min_len:
            continue
        grams = _trigrams(n)
        for h, _, hg in held_grams:
            score = len(grams & hg) / len(grams | hg)
            if score >= near:
                close.append((t, h, round(score, 2)))
    return exact, close


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def markdown_table(reports: Dict[str, Report]) -> str:
    """Side-by-side summary: one row per system (n, accuracy, macro-F1, fallbacks)."""
    lines = ["| system | n | accuracy | macro-F1 | nlu_fallback (misses) |", "|---|---:|---:|---:|---:|"]
    for name, r in reports.items():
        lines.append(f"| {name} | {r.n} | {_fmt(r.accuracy)} | {_fmt(r.macro_f1)} | {r.fallbacks} |")
    return "\n".join(lines)


def per_intent_table(reports: Dict[str, Report]) -> str:
    """Per-intent F1 side by side (support from the first report)."""
    names = list(reports)
    intents = sorted({i for r in reports.values() for i in r.per_intent})
    first = reports[names[0]]
    head = "| intent | support | " + " | ".join(f"{n} F1" for n in names) + " |"
    sep = "|---|---:|" + "---:|" * len(names)
    lines = [head, sep]
    for intent in intents:
        support = first.per_intent[intent].support if intent in first.per_intent else 0
        cells = [_fmt(reports[n].per_intent[intent].f1) if intent in reports[n].per_intent else "–" for n in names]
        lines.append(f"| {intent} | {support} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def confusion_table(report: Report, k: int = 10) -> str:
    lines = ["| gold | predicted | count |", "|---|---|---:|"]
    for gold, pred, count in report.top_confusions(k):
        lines.append(f"| {gold} | {pred} | {count} |")
    return "\n".join(lines)
