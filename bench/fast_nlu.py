"""Fast in-process loop for the intent classifier (issue 22): no `rasa train`, a few seconds per variant.

Trains :class:`CreditIntentClassifier` directly on data/nlu (entities from CreditEntityExtractor, the
FallbackClassifier rule of config.yml applied to the ranking), and scores lenient accuracy on wild_dev and
stratified k-fold cross-validation on data/nlu itself, next to the char TF-IDF peer.  Only the development
split is read here; the frozen sets are scored by bench/quick_nlu.py / bench/nlu_bench.py.

    .venv/bin/python -m bench.fast_nlu                                   # config.yml as it is
    .venv/bin/python -m bench.fast_nlu --set C=10 --set nb_weight=0 --cv 5
    .venv/bin/python -m bench.fast_nlu --dev-misses
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import yaml

from bench.nlu_bench import ROOT, TRAIN_NLU, tfidf_lr
from ops.retrain.nlu_eval import FALLBACK_INTENT, Labelled, load_examples, load_labelled

DEV = ROOT / "tests/nlu/wild_dev.yml"


def _config() -> Tuple[Dict[str, Any], float, float]:
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    ours, fallback = {}, (0.3, 0.1)
    for step in raw["pipeline"]:
        if step["name"].endswith("CreditIntentClassifier"):
            ours = {k: v for k, v in step.items() if k != "name"}
        if step["name"] == "FallbackClassifier":
            fallback = (float(step["threshold"]), float(step.get("ambiguity_threshold", 0.1)))
    return ours, fallback[0], fallback[1]


class Ours:
    """One trained classifier component (in a throw-away model storage) + the fallback rule."""

    def __init__(self, train: Sequence[Tuple[str, str]], config: Dict[str, Any], threshold: float,
                 ambiguity: float, storage_dir: Path) -> None:
        from rasa.engine.storage.local_model_storage import LocalModelStorage
        from rasa.engine.storage.resource import Resource
        from rasa.shared.nlu.training_data.message import Message
        from rasa.shared.nlu.training_data.training_data import TrainingData

        from nlu_components.credit_entities import CreditEntityExtractor
        from nlu_components.intent_classifier import CreditIntentClassifier

        storage_dir.mkdir(parents=True, exist_ok=True)
        self.extractor = CreditEntityExtractor({})
        self.component = CreditIntentClassifier(config, LocalModelStorage(storage_dir), Resource("intent"))
        started = time.monotonic()
        self.component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in train]))
        self.seconds = time.monotonic() - started
        self.threshold, self.ambiguity = threshold, ambiguity

    def margins(self, texts: Sequence[str]) -> List[Tuple[str, float, float]]:
        """(top intent, top probability, second probability) per text, before the fallback rule."""
        out = []
        for text in texts:
            probs = self.component._scores(text, self.extractor._entities_for(text))
            order = np.argsort(-probs)
            out.append((self.component.model.classes[order[0]], float(probs[order[0]]), float(probs[order[1]])))
        return out

    def predict(self, texts: Sequence[str], fallback: bool = True) -> List[str]:
        model = self.component.model
        out = []
        for text in texts:
            probs = self.component._scores(text, self.extractor._entities_for(text))
            order = np.argsort(-probs)
            top, second = probs[order[0]], probs[order[1]]
            if fallback and (top < self.threshold or top - second < self.ambiguity):
                out.append(FALLBACK_INTENT)
            else:
                out.append(model.classes[order[0]])
        return out


def dev_nll(model: Ours, examples: Sequence[Labelled]) -> float:
    """Mean -log p(first accepted label) on wild_dev: a finer signal than 266 right/wrong answers."""
    classes = model.component.model.classes
    total = 0.0
    for e in examples:
        probs = model.component._scores(e.text, model.extractor._entities_for(e.text))
        p = max(probs[classes.index(a)] for a in e.accept if a in classes)
        total -= float(np.log(max(p, 1e-9)))
    return total / len(examples)


def fit_temperature(model: Ours, examples: Sequence[Labelled]) -> Tuple[float, float]:
    """The temperature of least NLL on wild_dev for this model (the calibration step of the classifier)."""
    config = model.component.config
    kept, config["temperature"] = config["temperature"], 1.0
    best = (float("inf"), 1.0)
    try:
        for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 1.0):
            config["temperature"] = t
            best = min(best, (dev_nll(model, examples), t))
    finally:
        config["temperature"] = kept
    return best[1], best[0]


def sweep(rows: Sequence[Tuple[bool, float, float]]) -> str:
    """Accuracy for fallback threshold x ambiguity, from (top is right, top, second) rows."""
    cells = []
    for t in (0.2, 0.3, 0.4):
        for a in (0.0, 0.05, 0.1):
            ok = sum(right and top >= t and top - second >= a for right, top, second in rows)
            cells.append(f"{t}/{a}: {ok / len(rows):.3f}")
    return "  ".join(cells)


def lenient(examples: Sequence[Labelled], predicted: Sequence[str]) -> float:
    return sum(p in e.accept for e, p in zip(examples, predicted, strict=True)) / len(examples)


def cross_validate(train: List[Tuple[str, str]], config: Dict[str, Any], threshold: float, ambiguity: float,
                   folds: int, tmp: Path, peer: bool = True) -> Tuple[float, float, float]:
    """Stratified k-fold accuracy on data/nlu of ours (with fallback, without) and of the peer (C=100 fixed)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    labels = [i for _, i in train]
    ours_ok = raw_ok = peer_ok = 0
    rows: List[Tuple[bool, float, float]] = []
    for k, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=42).split(train, labels)):
        part = [train[i] for i in tr]
        held = [train[i] for i in te]
        model = Ours(part, config, threshold, ambiguity, tmp / f"cv{k}")
        ours_ok += sum(p == g for p, (_, g) in zip(model.predict([t for t, _ in held]), held, strict=True))
        margins = model.margins([t for t, _ in held])
        raw_ok += sum(p == g for (p, _, _), (_, g) in zip(margins, held, strict=True))
        rows.extend((p == g, top, second) for (p, top, second), (_, g) in zip(margins, held, strict=True))
        if not peer:
            continue
        peer = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                             LogisticRegression(C=100.0, max_iter=5000, random_state=42))
        peer.fit([t for t, _ in part], [i for _, i in part])
        peer_ok += sum(p == g for p, (_, g) in zip(peer.predict([t for t, _ in held]), held, strict=True))
    print("CV fallback sweep (threshold/ambiguity: accuracy): " + sweep(rows))
    return ours_ok / len(train), raw_ok / len(train), peer_ok / len(train)


def _value(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", default=[], help="classifier setting KEY=VALUE (repeatable)")
    parser.add_argument("--threshold", type=float, help="fallback threshold (default: config.yml)")
    parser.add_argument("--ambiguity", type=float, help="ambiguity threshold (default: config.yml)")
    parser.add_argument("--cv", type=int, default=0, help="also k-fold cross-validation on data/nlu")
    parser.add_argument("--peer", action="store_true", help="also the TF-IDF peer on wild_dev")
    parser.add_argument("--fit-temperature", action="store_true", help="temperature of least NLL on wild_dev")
    parser.add_argument("--dev-misses", action="store_true", help="print the misses on wild_dev")
    args = parser.parse_args(argv)
    config, threshold, ambiguity = _config()
    config.update({k: _value(v) for k, v in (s.split("=", 1) for s in args.set)})
    threshold = threshold if args.threshold is None else args.threshold
    ambiguity = ambiguity if args.ambiguity is None else args.ambiguity
    train = load_examples(TRAIN_NLU)
    dev = load_labelled(DEV)
    texts = [e.text for e in dev]
    with tempfile.TemporaryDirectory(prefix="fast_nlu_") as tmp:
        model = Ours(train, config, threshold, ambiguity, Path(tmp) / "full")
        predicted = model.predict(texts)
        raw = model.predict(texts, fallback=False)
        fallbacks = sum(p == FALLBACK_INTENT for p in predicted)
        print(f"config {config} fallback {threshold}/{ambiguity}; trained in {model.seconds:.1f} s")
        print(f"wild_dev lenient: ours {lenient(dev, predicted):.3f} (no fallback {lenient(dev, raw):.3f}, "
              f"{fallbacks} fallbacks), NLL {dev_nll(model, dev):.3f}")
        dev_rows = [(p in e.accept, top, second) for e, (p, top, second) in zip(dev, model.margins(texts), strict=True)]
        if args.fit_temperature:
            print("wild_dev temperature of least NLL: %.2f (NLL %.3f)" % fit_temperature(model, dev))
        print("wild_dev fallback sweep (threshold/ambiguity: accuracy): " + sweep(dev_rows))
        if args.peer:
            print(f"wild_dev lenient: peer {lenient(dev, tfidf_lr(train, 42)[0](texts)):.3f}")
        if args.cv:
            ours_cv, raw_cv, peer_cv = cross_validate(train, config, threshold, ambiguity, args.cv, Path(tmp),
                                                      peer=args.peer)
            print(f"{args.cv}-fold CV on data/nlu: ours {ours_cv:.3f} (no fallback {raw_cv:.3f})"
                  + (f", peer {peer_cv:.3f}" if args.peer else ""))
        if args.dev_misses:
            for e, p, r in zip(dev, predicted, raw, strict=True):
                if p not in e.accept:
                    print(f"  {e.gold:>24} -> {p:<20} ({r}) {e.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
