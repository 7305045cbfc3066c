"""NLU benchmark: ours (config.yml) vs two peers on the team held-out set.

    make bench                      # == .venv/bin/python bench/nlu_bench.py
    .venv/bin/python bench/nlu_bench.py --ours-model path/to/model.tar.gz --no-write

Systems, all trained on data/nlu and scored on tests/nlu/heldout.yml with ops/nlu_eval.py:
  ours       config.yml: the cached dev model (ops/model_cache.py, `scripts/model.py dev`; trained if missing)
  tfidf_lr   TF-IDF character 1-3-grams + LogisticRegression (sklearn, random_state 42;
             C picked by 5-fold CV on the training data only)
  plain_rasa bench/configs/plain_rasa.yml (JiebaTokenizer + word CountVectors + DIET, no
             FallbackClassifier), trained with `rasa train nlu` into a temporary directory

Prints the results and rewrites the "NLU" section of docs/benchmarks.md (between
<!-- nlu:start --> and <!-- nlu:end -->; the rest of the file is left alone).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

from bench.machine import machine_facts
from ops import model_cache
from ops.nlu_eval import (
    RasaPredictor,
    Report,
    confusion_table,
    evaluate,
    load_examples,
    markdown_table,
    overlaps,
    per_intent_table,
)

ROOT = model_cache.ROOT
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
TRAIN_NLU = ROOT / "data" / "nlu"
PLAIN_CONFIG = ROOT / "bench" / "configs" / "plain_rasa.yml"
BENCH_DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- nlu:start -->", "<!-- nlu:end -->"
RASA = ROOT / ".venv" / "bin" / "rasa"
SEED = 42


def machine() -> str:
    m = machine_facts()
    load = ", ".join(f"{x:.1f}" for x in m["load_average_at_start"])
    return (f"nproc {m['cores']}, {m['cpu']}, RAM {m['memory_gb']} GiB, load average at start {load} "
            f"(shared machine), Python {m['python']}")

def _versions() -> str:
    import rasa
    import sklearn

    return f"rasa {rasa.__version__}, scikit-learn {sklearn.__version__}"


def train_rasa_nlu(config: Path, out_dir: Path, name: str) -> Tuple[Path, float]:
    """`rasa train nlu` into out_dir; returns (model path, wall seconds)."""
    cmd = [str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(TRAIN_NLU),
           "--out", str(out_dir), "--fixed-model-name", name]
    print(f">> {shlex.join(cmd)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.monotonic() - started
    model = out_dir / f"{name}.tar.gz"
    if not model.exists():
        raise SystemExit(f"training finished but {model} is missing")
    return model, seconds


def ours_model(explicit: Path | None, out_dir: Path, retrain: bool) -> Tuple[Path, str]:
    if explicit:
        return explicit, "given model (not trained in this run)"
    if retrain:
        model, seconds = train_rasa_nlu(ROOT / "config.yml", out_dir, "ours")
        return model, f"{seconds:.0f} s (`rasa train nlu`)"
    cached = model_cache.DEV_DIR / f"{model_cache.project_hash()}.tar.gz"
    if cached.exists():
        return cached, "cached dev model (not retrained in this run; see Pipeline experiments for NLU-only train times)"
    started = time.monotonic()
    path = model_cache.dev_model()
    return path, f"{time.monotonic() - started:.0f} s (full `rasa train`, NLU + dialogue policies)"


def tfidf_lr(train: List[Tuple[str, str]]):
    """Fit the TF-IDF char 1-3-gram + LogisticRegression peer; returns (predict fn, train seconds, C)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    texts = [t for t, _ in train]
    labels = [i for _, i in train]
    pipe = Pipeline([
        ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
        ("lr", LogisticRegression(max_iter=5000, random_state=SEED)),
    ])
    search = GridSearchCV(pipe, {"lr__C": [1.0, 10.0, 100.0]}, scoring="f1_macro",
                          cv=StratifiedKFold(5, shuffle=True, random_state=SEED), n_jobs=1)
    started = time.monotonic()
    search.fit(texts, labels)
    seconds = time.monotonic() - started
    best = search.best_estimator_
    return (lambda xs: list(best.predict(list(xs)))), seconds, search.best_params_["lr__C"]


def render(reports: Dict[str, Report], timings: Dict[str, str], command: str, notes: List[str]) -> str:
    ours = reports["ours"]
    worst = sorted(ours.per_intent.items(), key=lambda kv: kv[1].f1)[:5]
    lines = [
        START,
        "## NLU",
        "",
        f"- date: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- machine: {machine()}",
        f"- versions: {_versions()}",
        f"- command: `{command}`",
        f"- held-out set: `tests/nlu/heldout.yml` ({ours.n} utterances, {len(ours.per_intent)} intents, "
        "written independently of `data/`); training data: `data/nlu/`",
        "- scoring: `ops/nlu_eval.py`; a prediction of `nlu_fallback` is a miss in every figure "
        "(never dropped); macro-F1 = unweighted mean F1 over the gold intents",
        "",
        "| system | what | training wall time |",
        "|---|---|---|",
        f"| ours | `config.yml` (jieba + domain dict, entity extractor, regex/lexical/word/char n-gram "
        f"featurizers, DIET, FallbackClassifier) | {timings['ours']} |",
        f"| tfidf_lr | TF-IDF char 1–3-grams + LogisticRegression | {timings['tfidf_lr']} |",
        f"| plain_rasa | `bench/configs/plain_rasa.yml`: JiebaTokenizer + word CountVectors + DIET "
        f"(same epochs/seed), no FallbackClassifier | {timings['plain_rasa']} |",
        "",
        markdown_table(reports),
        "",
        "### Per-intent F1",
        "",
        per_intent_table(reports),
        "",
        "### Top confusions of ours (gold → predicted)",
        "",
        confusion_table(ours, 12),
        "",
        "Weakest intents of ours: " + ", ".join(f"{i} {s.f1:.2f}" for i, s in worst) + ".",
    ]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    lines.append(END)
    return "\n".join(lines)


def write_section(section: str, path: Path = BENCH_DOC) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours-model", type=Path, help="evaluate this model as 'ours' instead of the dev model")
    parser.add_argument("--retrain-ours", action="store_true",
                        help="train config.yml NLU-only into a temp dir (measures its training time)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    command = shlex.join([".venv/bin/python", "bench/nlu_bench.py", *(sys.argv[1:] if argv is None else argv)])

    heldout = load_examples(HELDOUT)
    train = load_examples(TRAIN_NLU)
    texts = [t for t, _ in heldout]
    gold = [g for _, g in heldout]
    reports: Dict[str, Report] = {}
    timings: Dict[str, str] = {}
    notes: List[str] = [f"training examples: {len(train)} (data/nlu at run time)"]
    exact, near = overlaps([t for t, _ in train], texts)
    notes.append(
        f"contamination check (`nlu_eval.overlaps`): {len(exact)} training example(s) equal to a held-out one after "
        "normalisation (NFKC, lower-case, no spaces/punctuation/emoji)"
        + (": " + "; ".join(f"「{t}」≈「{h}」" for t, h in exact) if exact else "")
        + f"; {len(near)} near-duplicate pair(s) (char-trigram Jaccard ≥ 0.6, ≥ 6 chars)"
        + (": " + "; ".join(f"「{t}」~「{h}」" for t, h, _ in near[:25]) if near else ""))

    with tempfile.TemporaryDirectory(prefix="nlu_bench_") as tmp:
        tmpdir = Path(tmp)
        # (a) ours
        model, timings["ours"] = ours_model(args.ours_model, tmpdir, args.retrain_ours)
        notes.append(f"ours model: `{model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}`")
        started = time.monotonic()
        predictor = RasaPredictor(model)
        loaded = time.monotonic()
        predicted = predictor.predict(texts)
        notes.append(f"ours: model load {loaded - started:.1f} s, "
                     f"predict {len(texts)} texts {time.monotonic() - loaded:.1f} s")
        reports["ours"] = evaluate(zip(gold, predicted, strict=True))

        # (b) TF-IDF char n-grams + logistic regression
        predict, seconds, c = tfidf_lr(train)
        timings["tfidf_lr"] = f"{seconds:.1f} s (incl. 5-fold CV for C; chose C={c:g})"
        reports["tfidf_lr"] = evaluate(zip(gold, predict(texts), strict=True))

        # (c) plain Rasa Chinese recipe
        model, seconds = train_rasa_nlu(PLAIN_CONFIG, tmpdir, "plain_rasa")
        timings["plain_rasa"] = f"{seconds:.0f} s (`rasa train nlu`)"
        reports["plain_rasa"] = evaluate(zip(gold, RasaPredictor(model).predict(texts), strict=True))

    section = render(reports, timings, command, notes)
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"\n>> wrote {BENCH_DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
