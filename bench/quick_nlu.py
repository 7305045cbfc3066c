"""Quick NLU check while changing data or thresholds: ONE `rasa train nlu` of ours (config.yml, seed 42) and
the TF-IDF peer (seed 42), lenient accuracy on every set, parse p95, and a fallback-threshold sweep on
wild_dev only (the development split; the frozen sets are scored in aggregate, never inspected).

    .venv/bin/python -m bench.quick_nlu                 # train + score (about 2-3 min on the shared machine)
    .venv/bin/python -m bench.quick_nlu --model M.tar.gz  # score an existing model
    .venv/bin/python -m bench.quick_nlu --sweep         # also: fallback / ambiguity thresholds on wild_dev

`make bench` (bench/nlu_bench.py) stays the full benchmark of record (two seeds, foundation, timings).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Sequence

from bench.nlu_bench import CONFIGS, NON_BUSINESS, SETS, TRAIN_NLU, parse_times, seeded_config, tfidf_lr, train_nlu
from ops.retrain.nlu_eval import FALLBACK_INTENT, Labelled, RasaPredictor, load_examples, load_labelled, score_set


def _ranking(parse: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The classifier's own ranking (FallbackClassifier's nlu_fallback entry left out)."""
    return [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]


def sweep(examples: Sequence[Labelled], parses: Sequence[Dict[str, Any]]) -> str:
    """Lenient accuracy on wild_dev for fallback threshold t (top < t -> fallback) and ambiguity a
    (top - second < a -> fallback), and how often the clarification (ambiguity) case fires and holds the
    right intent in its two buttons."""
    lines = ["| threshold | ambiguity | lenient acc | fallbacks | ambiguous | gold in the 2 buttons |",
             "|---:|---:|---:|---:|---:|---:|"]
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        for a in (0.0, 0.05, 0.1, 0.15, 0.2):
            ok = fb = amb = amb_hit = 0
            for e, p in zip(examples, parses, strict=True):
                rank = _ranking(p)
                top = rank[0]["confidence"] if rank else 0.0
                second = rank[1]["confidence"] if len(rank) > 1 else 0.0
                if top < t:
                    fb += 1
                elif top - second < a:
                    fb += 1
                    amb += 1
                    amb_hit += any(r["name"] in e.accept for r in rank[:2])
                else:
                    ok += rank[0]["name"] in e.accept
            lines.append(f"| {t:.2f} | {a:.2f} | {ok / len(examples):.3f} | {fb} | {amb} | {amb_hit} |")
    return "\n".join(lines)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="score this model instead of training one")
    parser.add_argument("--sweep", action="store_true", help="fallback/ambiguity threshold sweep on wild_dev")
    parser.add_argument("--dev-misses", action="store_true", help="print ours' misses on wild_dev (dev split only)")
    parser.add_argument("--no-peer", action="store_true", help="skip the TF-IDF peer")
    args = parser.parse_args(argv)
    sets = {name: [e for path in paths for e in load_labelled(path)] for name, paths in SETS.items()}
    business = {e.gold for examples in sets.values() for e in examples} - NON_BUSINESS
    with tempfile.TemporaryDirectory(prefix="quick_nlu_") as tmp:
        model = args.model
        if model is None:
            model, seconds = train_nlu(seeded_config(CONFIGS["ours"], 42, Path(tmp) / "ours.yml"), Path(tmp), "ours")
            print(f"trained in {seconds:.0f} s on {len(load_examples(TRAIN_NLU))} examples")
        predictor = RasaPredictor(model)
        systems = {"ours": predictor.predict}
        if not args.no_peer:
            systems["tfidf_lr"] = tfidf_lr(load_examples(TRAIN_NLU), 42)[0]
        print("| system | " + " | ".join(f"{n} (n={len(v)})" for n, v in sets.items()) + " |")
        print("|---|" + "---:|" * len(sets))
        recalls = {}
        for name, predict in systems.items():
            cells = []
            for set_name, examples in sets.items():
                score = score_set(examples, predict([e.text for e in examples]), business)
                cells.append(f"{score.accuracy_any:.3f} ({score.report.fallbacks} fb)")
                recalls[(name, set_name)] = score.report.per_intent
            print(f"| {name} | " + " | ".join(cells) + " |")
        print("\nper-intent recall (ours / tfidf_lr):")
        intents = sorted(recalls[("ours", "wild_dev")])
        print("| intent | " + " | ".join(sets) + " |")
        for intent in intents:
            cells = []
            for set_name in sets:
                pair = [recalls.get((s, set_name), {}).get(intent) for s in systems]
                cells.append(" / ".join(f"{p.recall:.2f}" if p else "–" for p in pair))
            print(f"| {intent} | " + " | ".join(cells) + " |")
        times = parse_times(predictor, [e.text for e in sets["wild_test"]])
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"\nparse per message: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")
        if args.dev_misses:
            dev = sets["wild_dev"]
            for e, p in zip(dev, predictor.predict([e.text for e in dev]), strict=True):
                if p not in e.accept:
                    print(f"  {e.gold:>24} -> {p:<24} {e.text}")
        if args.sweep:
            dev = sets["wild_dev"]
            print("\nwild_dev threshold sweep (ours):\n" + sweep(dev, predictor.parse([e.text for e in dev])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
