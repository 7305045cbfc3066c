"""Where things live in a Rasa project, read-only helpers over domain and NLU files.

Every ops step works on a project root (the current directory by default, `--project`
to override), so the same code runs on the real assistant and on the small test fixture.
The intent list is read from the domain (never copied): a `# dialogue basics` (or
`# 对话基础`) comment inside the `intents:` list marks where the basic intents start;
everything before it, and every intent in a domain without that marker, is a business
intent (gated strictly).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import yaml

from ops.model_cache import project_hash

CODE_ROOT = Path(__file__).resolve().parent.parent
_BASICS_MARKERS = ("dialogue basics", "对话基础")
# Same list as scripts/model.py INPUTS: everything that changes what a trained model does.
class OpsError(Exception):
    """A problem the operator can fix; the message is Chinese and shown as is."""


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: Path


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: Optional[Path] = None) -> "Project":
        path = Path(root or Path.cwd()).resolve()
        if not (path / "config.yml").exists():
            raise OpsError(f"{path} 不是 Rasa 项目根目录（没有 config.yml）。请在项目根目录运行，或用 --project 指定。")
        return cls(path)

    # --- paths -----------------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def domain(self) -> Path:
        folder = self.root / "domain"
        return folder if folder.is_dir() else self.root / "domain.yml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def nlu_dir(self) -> Path:
        return self.data / "nlu"

    @property
    def ops_nlu_dir(self) -> Path:
        return self.nlu_dir / "ops"

    @property
    def regression_dir(self) -> Path:
        return self.data / "regression"

    @property
    def ledger(self) -> Path:
        return self.regression_dir / "ops_corrections.yml"

    @property
    def import_log(self) -> Path:
        return self.regression_dir / "import_log.jsonl"

    @property
    def export_audit(self) -> Path:
        """Append-only audit of every export (who, when, which date range, how many rows)."""
        return self.root / "var" / "audit" / "ops_exports.jsonl"

    @property
    def heldout(self) -> Path:
        return self.root / "tests" / "nlu" / "heldout.yml"

    @property
    def endpoints(self) -> Path:
        return self.root / "endpoints.yml"

    @property
    def production_dir(self) -> Path:
        return self.root / "models" / "production"

    @property
    def production_model(self) -> Path:
        return self.production_dir / "model.tar.gz"

    @property
    def history_dir(self) -> Path:
        return self.production_dir / "history"

    @property
    def manifest(self) -> Path:
        return self.production_dir / "manifest.json"

    @property
    def candidates_dir(self) -> Path:
        return self.root / "models" / "candidates"

    @property
    def results_dir(self) -> Path:
        return self.root / "results" / "ops"

    @property
    def export_dir(self) -> Path:
        return self.root / "var" / "ops"

    def rel(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    # --- domain ------------------------------------------------------------------
    def _domain_files(self) -> List[Path]:
        if self.domain.is_dir():
            return sorted(p for p in self.domain.rglob("*") if p.suffix in (".yml", ".yaml"))
        if self.domain.exists():
            return [self.domain]
        raise OpsError(f"找不到 domain（{self.rel(self.domain)}）。")

    def intents(self) -> List[str]:
        """Every intent declared in the domain, in declaration order."""
        names: List[str] = []
        for path in self._domain_files():
            content = _load_yaml(path)
            declared = content.get("intents") if isinstance(content, dict) else None
            for entry in declared or []:
                name = next(iter(entry)) if isinstance(entry, dict) else str(entry)
                if name not in names:
                    names.append(name)
        if not names:
            raise OpsError("domain 中没有声明任何意图。")
        return names

    def basic_intents(self) -> List[str]:
        """Intents after the `# dialogue basics` marker inside a domain `intents:` list."""
        basics: List[str] = []
        for path in self._domain_files():
            in_intents = after_marker = False
            for line in path.read_text(encoding="utf-8").splitlines():
                if re.match(r"^intents\s*:", line):
                    in_intents, after_marker = True, False
                    continue
                if in_intents and re.match(r"^\S", line) and not line.startswith("#"):
                    in_intents = False
                if not in_intents:
                    continue
                stripped = line.strip()
                if stripped.startswith("#") and any(m in stripped.lower() for m in _BASICS_MARKERS):
                    after_marker = True
                    continue
                match = re.match(r"^\s*-\s*([A-Za-z0-9_\-/]+)", line)
                if after_marker and match:
                    basics.append(match.group(1))
        return basics

    def business_intents(self) -> List[str]:
        basics = set(self.basic_intents())
        return [i for i in self.intents() if i not in basics]

    def responses(self) -> Iterator[Tuple[str, str]]:
        """(response name, text) for every text variation in the domain."""
        for path in self._domain_files():
            content = _load_yaml(path)
            if not isinstance(content, dict):
                continue
            for name, variations in (content.get("responses") or {}).items():
                for variation in variations or []:
                    if isinstance(variation, dict) and variation.get("text"):
                        yield name, str(variation["text"])

    def intent_labels(self) -> Dict[str, str]:
        """Chinese labels from the labelling rules (`docs/intents.md` headings), if present."""
        doc = self.root / "docs" / "intents.md"
        if not doc.exists():
            return {}
        labels: Dict[str, str] = {}
        for match in re.finditer(r"^###\s+([a-z_]+)（([^）]+)）", doc.read_text(encoding="utf-8"), re.M):
            labels[match.group(1)] = match.group(2)
        for match in re.finditer(r"^-\s+\*\*([a-z_]+)\*\*：([^。\n]{0,30})", doc.read_text(encoding="utf-8"), re.M):
            labels.setdefault(match.group(1), match.group(2))
        return labels

    # --- NLU data ----------------------------------------------------------------
    def training_examples(self, include_ops: bool = True) -> List[Example]:
        files = sorted(p for p in self.data.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        examples: List[Example] = []
        for path in files:
            if self.regression_dir in path.parents:
                continue
            if not include_ops and self.ops_nlu_dir in path.parents:
                continue
            examples.extend(read_nlu_file(path))
        return examples

    def heldout_examples(self) -> List[Example]:
        return read_nlu_file(self.heldout) if self.heldout.exists() else []

    def fingerprint(self) -> str:
        """Hash of everything that shapes a trained model: the same key as the dev model cache
        (:func:`ops.model_cache.project_hash`: config, domain, data, catalogue and every project module the
        custom NLU components import), so moving code can never leave a stale candidate."""
        return project_hash(self.root)


_ENTITY_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def strip_annotations(text: str) -> str:
    return _ENTITY_ANNOTATION.sub(lambda m: m.group(1), text)


def _load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise OpsError(f"{path} 不是有效的 YAML：{e}") from e


def parse_examples_block(block: object) -> List[str]:
    """Texts of an `examples:` value (Rasa 3 block string `- a\\n- b` or list of {text: ...})."""
    texts: List[str] = []
    if isinstance(block, str):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("- "):
                texts.append(strip_annotations(line[2:].strip()))
            elif line == "-":
                continue
    elif isinstance(block, list):
        for item in block:
            if isinstance(item, dict) and "text" in item:
                texts.append(strip_annotations(str(item["text"]).strip()))
    return [t for t in texts if t]


def read_nlu_file(path: Path) -> List[Example]:
    content = _load_yaml(path)
    if not isinstance(content, dict) or not isinstance(content.get("nlu"), list):
        return []
    out: List[Example] = []
    for item in content["nlu"]:
        if isinstance(item, dict) and "intent" in item:
            out.extend(Example(t, str(item["intent"]), path) for t in parse_examples_block(item.get("examples")))
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_digest(paths: Iterable[Path]) -> str:
    """Hash of every file under the given paths (used by tests and to detect changes)."""
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).is_dir() else [Path(root)]
        for file in files:
            if file.exists():
                digest.update(str(file).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()
