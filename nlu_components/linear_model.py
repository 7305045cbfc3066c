"""A small sparse linear intent model: TF-IDF feature families + multinomial logistic regression.

Framework-free (no Rasa import), so it is unit-tested directly and benchmarked without a model file.

Training uses scikit-learn (``TfidfVectorizer`` per feature family, ``LogisticRegression``); the fitted
model is kept as plain arrays (vocabularies, idf weights, coefficients) and saved as JSON + ``.npz``
rather than pickled, so loading a model file never executes code.  Inference recomputes exactly what
the vectorizers do (sublinear tf x idf, l2 per family) for one message at a time and gathers only the
coefficient rows of the terms present (a message has tens of terms; the model has ~10^5 features), which
keeps a parse well under a millisecond: ``test_linear_model.py`` checks the probabilities equal
scikit-learn's own.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix, hstack

Analyzer = Callable[[str], List[str]]


@dataclass
class Family:
    """One feature family: an analyzer (text -> terms), its vocabulary and idf weights."""

    name: str
    analyzer: Analyzer
    vocabulary: Dict[str, int]
    idf: np.ndarray
    scale: float = 1.0  # the family's l2 norm in the concatenated features (its say against the others)

    def weights(self, text: str) -> Dict[int, float]:
        """Column -> weight of one text: sublinear tf x idf, l2-normalised (what TfidfVectorizer computes)."""
        counts: Dict[int, int] = {}
        for term in self.analyzer(text):
            j = self.vocabulary.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        weights = {j: (1.0 + math.log(c)) * self.idf[j] for j, c in counts.items()}
        norm = (math.sqrt(sum(w * w for w in weights.values())) or 1.0) / self.scale
        return {j: w / norm for j, w in weights.items()}

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            for j, w in self.weights(text).items():
                rows.append(r)
                cols.append(j)
                vals.append(w)
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocabulary)))


@dataclass(frozen=True)
class SparseRow:
    """One message's features: global column indices and their weights."""

    indices: np.ndarray
    values: np.ndarray

    def dot(self, table: np.ndarray) -> np.ndarray:
        """``row @ table`` for a (features x k) table, gathering only the present rows."""
        if self.indices.size == 0:
            return np.zeros(table.shape[1])
        return self.values @ table[self.indices]


class LinearIntentModel:
    """Probabilities over intents for prepared texts (see :mod:`nlu_components.intent_classifier`)."""

    def __init__(self, families: List[Family], classes: List[str], coef: np.ndarray, intercept: np.ndarray,
                 temperature: float = 1.0) -> None:
        self.families = families
        self.classes = classes
        self.coef = coef
        self.intercept = intercept
        self.temperature = temperature
        self.coef_t = np.ascontiguousarray(coef.T)  # (features x classes): rows gathered per message
        self.offsets = np.cumsum([0] + [len(f.vocabulary) for f in families])[:-1]

    # ------------------------------------------------------------------ training

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], analyzers: Dict[str, Analyzer], c: float,
            weights: Sequence[float] | None = None, max_iter: int = 3000,
            scales: Dict[str, float] | None = None) -> "LinearIntentModel":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        families, blocks = [], []
        for name, analyzer in analyzers.items():
            vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
            scale = float((scales or {}).get(name, 1.0))
            blocks.append(vectorizer.fit_transform(texts) * scale)
            vocabulary = {term: int(j) for term, j in vectorizer.vocabulary_.items()}
            families.append(Family(name, analyzer, vocabulary, vectorizer.idf_.astype(np.float64), scale))
        x = hstack(blocks).tocsr()
        lr = LogisticRegression(C=c, max_iter=max_iter, multi_class="multinomial")
        lr.fit(x, list(labels), sample_weight=None if weights is None else np.asarray(weights))
        return cls(families, [str(k) for k in lr.classes_], lr.coef_.astype(np.float64),
                   lr.intercept_.astype(np.float64))

    # ----------------------------------------------------------------- inference

    def features(self, texts: Sequence[str]) -> csr_matrix:
        """Feature matrix of several texts (training and tests; inference uses :meth:`row`)."""
        return hstack([f.transform(texts) for f in self.families]).tocsr()

    def row(self, text: str) -> SparseRow:
        """One text's features without building a sparse matrix."""
        indices: List[int] = []
        values: List[float] = []
        for family, offset in zip(self.families, self.offsets, strict=True):
            for j, w in family.weights(text).items():
                indices.append(int(offset) + j)
                values.append(w)
        return SparseRow(np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=np.float64))

    def proba_row(self, row: SparseRow) -> np.ndarray:
        z = (row.dot(self.coef_t) + self.intercept) / self.temperature
        e = np.exp(z - z.max())
        return e / e.sum()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.proba_row(self.row(t)) for t in texts]) if texts else np.zeros((0, len(self.classes)))

    # ------------------------------------------------------------------- storage

    def save(self, directory: Path) -> None:
        meta = {
            "classes": self.classes,
            "temperature": self.temperature,
            "families": [{"name": f.name, "vocabulary": f.vocabulary, "scale": f.scale} for f in self.families],
        }
        (directory / "linear_model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        arrays = {"coef": self.coef, "intercept": self.intercept}
        arrays.update({f"idf_{i}": f.idf for i, f in enumerate(self.families)})
        np.savez(directory / "linear_model.npz", **arrays)

    @classmethod
    def load(cls, directory: Path, analyzers: Dict[str, Analyzer]) -> "LinearIntentModel":
        meta = json.loads((directory / "linear_model.json").read_text(encoding="utf-8"))
        with np.load(directory / "linear_model.npz", allow_pickle=False) as arrays:
            families = [Family(f["name"], analyzers[f["name"]], {k: int(v) for k, v in f["vocabulary"].items()},
                               arrays[f"idf_{i}"], float(f.get("scale", 1.0)))
                        for i, f in enumerate(meta["families"])]
            return cls(families, list(meta["classes"]), arrays["coef"], arrays["intercept"],
                       float(meta.get("temperature", 1.0)))

    def ranking(self, probabilities: np.ndarray, top: int = 10) -> List[Tuple[str, float]]:
        order = np.argsort(-probabilities)[:top]
        return [(self.classes[i], float(probabilities[i])) for i in order]
