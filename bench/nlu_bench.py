"""NLU benchmark: ours (config.yml) against a char TF-IDF + LR peer, today's foundation pipeline and the
plain Rasa recipe, on the real-customer-style sets and the team held-out set.

    make bench                      # == .venv/bin/python bench/nlu_bench.py
    .venv/bin/python bench/nlu_bench.py --no-write --quick   # no full trainings, print only

Systems, all trained on data/nlu in this run and scored with ops/retrain/nlu_eval.py:
  ours        config.yml (CreditIntentClassifier), `rasa train nlu`, random_seed 42 and 7
  tfidf_lr    TF-IDF character 1-3-grams + LogisticRegression (C by 5-fold CV on the training data only),
              random_state 42 and 7 (the CV split changes with it)
  foundation  bench/configs/foundation.yml: the DIET pipeline before issue 9 (accuracy, parse time and
              training time of "today's pipeline", measured in the same run)
  plain_rasa  bench/configs/plain_rasa.yml (JiebaTokenizer + word CountVectors + DIET)

Sets: tests/nlu/wild_test.yml and wild2 = tests/nlu/wild2_d.yml + wild2_e.yml (both frozen; scored only),
tests/nlu/wild_dev.yml (where ours was tuned), tests/nlu/heldout.yml.
Cost: NLU parse time per message (one message at a time, after a warm-up) and the
full `rasa train` wall time of ours and of the foundation.  Rewrites the "NLU" section of
docs/benchmarks.md (between <!-- nlu:start --> and <!-- nlu:end -->).
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import yaml

from bench.nlu_report import Row, render, write_section
from ops import model_cache
from ops.retrain.nlu_eval import Labelled, RasaPredictor, SetScore, load_examples, load_labelled, score_set

ROOT = model_cache.ROOT
# wild2 (issue 22): the second independent set, two writers (WeChat/app chat d, phone/ASR and web e), frozen.
SETS = {"wild_test": (ROOT / "tests/nlu/wild_test.yml",),
        "wild2": (ROOT / "tests/nlu/wild2_d.yml", ROOT / "tests/nlu/wild2_e.yml"),
        "wild_dev": (ROOT / "tests/nlu/wild_dev.yml",), "heldout": (ROOT / "tests/nlu/heldout.yml",)}
TRAIN_NLU = ROOT / "data" / "nlu"
CONFIGS = {"ours": ROOT / "config.yml", "foundation": ROOT / "bench/configs/foundation.yml",
           "plain_rasa": ROOT / "bench/configs/plain_rasa.yml"}
RASA = ROOT / ".venv" / "bin" / "rasa"
SEEDS = (42, 7)
NON_BUSINESS = {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope", "inform",
                "give_suggestion"}


def _rasa(args: Sequence[str]) -> float:
    """Run ``rasa <args>`` with Rasa's training cache off (RASA_MAX_CACHE_SIZE=0), so every timing is a
    real training and no system reuses another's cached components."""
    print(">> rasa " + shlex.join(args), file=sys.stderr, flush=True)
    env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0"}
    started = time.monotonic()
    subprocess.run([str(RASA), *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env=env)
    return time.monotonic() - started


def seeded_config(config: Path, seed: int, out: Path) -> Path:
    """A copy of ``config`` whose intent classifier (and DIET, if any) uses ``seed``."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    for step in raw.get("pipeline", []):
        if "random_seed" in step or step["name"].endswith(("CreditIntentClassifier", "DIETClassifier")):
            step["random_seed"] = seed
    out.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def train_nlu(config: Path, out_dir: Path, name: str) -> Tuple[Path, float]:
    seconds = _rasa(["train", "nlu", "--config", str(config), "--nlu", str(TRAIN_NLU), "--out", str(out_dir),
                     "--fixed-model-name", name])
    return out_dir / f"{name}.tar.gz", seconds


def train_full(config: Path, out_dir: Path, name: str) -> float:
    return _rasa(["train", "--config", str(config), "--domain", "domain", "--data", "data", "--out", str(out_dir),
                  "--fixed-model-name", name])


def tfidf_lr(train: List[Tuple[str, str]], seed: int) -> Tuple[Callable[[List[str]], List[str]], float]:
    """The peer: TF-IDF char 1-3-grams + LogisticRegression, C by 5-fold CV; returns (predict, C)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
                     ("lr", LogisticRegression(max_iter=5000, random_state=seed))])
    search = GridSearchCV(pipe, {"lr__C": [1.0, 10.0, 100.0]}, scoring="f1_macro",
                          cv=StratifiedKFold(5, shuffle=True, random_state=seed), n_jobs=1)
    search.fit([t for t, _ in train], [i for _, i in train])
    best = search.best_estimator_
    return (lambda xs: [str(p) for p in best.predict(list(xs))]), float(search.best_params_["lr__C"])


def parse_times(predictor: RasaPredictor, texts: Sequence[str]) -> List[float]:
    """Milliseconds per message, one message at a time (as a live turn parses it)."""
    predictor.parse(texts[:20])  # warm-up
    times = []
    for text in texts:
        started = time.perf_counter()
        predictor.parse([text])
        times.append(1000 * (time.perf_counter() - started))
    return times


def scores(predict: Callable[[List[str]], List[str]], sets: Dict[str, List[Labelled]],
           business: set) -> Dict[str, SetScore]:
    return {name: score_set(examples, predict([e.text for e in examples]), business)
            for name, examples in sets.items()}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--quick", action="store_true", help="skip the full `rasa train` timings and plain_rasa")
    args = parser.parse_args(argv)
    command = shlex.join([".venv/bin/python", "bench/nlu_bench.py", *(sys.argv[1:] if argv is None else argv)])

    sets = {name: [e for path in paths for e in load_labelled(path)] for name, paths in SETS.items()}
    train = load_examples(TRAIN_NLU)  # without the outreach-only EXTERNAL_* intents, as ours trains
    business = {e.gold for examples in sets.values() for e in examples} - NON_BUSINESS
    rows: List[Row] = []
    costs: Dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="nlu_bench_") as tmp:
        tmpdir = Path(tmp)
        for seed in SEEDS:
            model, seconds = train_nlu(seeded_config(CONFIGS["ours"], seed, tmpdir / f"ours{seed}.yml"), tmpdir,
                                       f"ours{seed}")
            predictor = RasaPredictor(model)
            rows.append(Row(f"ours (seed {seed})", scores(predictor.predict, sets, business), f"{seconds:.0f} s"))
            if seed == SEEDS[0]:
                ours_times = parse_times(predictor, [e.text for e in sets["wild_test"]])
            predict, c = tfidf_lr(train, seed)
            rows.append(Row(f"tfidf_lr (seed {seed})", scores(predict, sets, business), f"C={c:g} by 5-fold CV"))
        model, seconds = train_nlu(CONFIGS["foundation"], tmpdir, "foundation")
        predictor = RasaPredictor(model)
        rows.append(Row("foundation", scores(predictor.predict, sets, business), f"{seconds:.0f} s"))
        costs["parse_ours"], costs["parse_foundation"] = ours_times, parse_times(
            predictor, [e.text for e in sets["wild_test"]])
        if not args.quick:
            model, seconds = train_nlu(CONFIGS["plain_rasa"], tmpdir, "plain_rasa")
            rows.append(Row("plain_rasa", scores(RasaPredictor(model).predict, sets, business), f"{seconds:.0f} s"))
            costs["train_ours"] = train_full(CONFIGS["ours"], tmpdir, "full_ours")
            costs["train_foundation"] = train_full(CONFIGS["foundation"], tmpdir, "full_foundation")
    section = render(rows, costs, command, len(train), {k: len(v) for k, v in sets.items()})
    print(section)
    if not args.no_write:
        write_section(section)
        print(">> wrote docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
