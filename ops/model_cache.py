"""Model paths: a development model cached by the hash of everything that shapes it, and the
stable production path that `rasa run` is always given explicitly.

The cache key (``project_hash``) covers the training inputs (config, domain, data, the
product catalogue) and every project source file that the custom components named in
config.yml import, found by following their imports (an AST walk over the project's own
modules, transitively, lazy imports inside functions included). No list of source files is
kept by hand, so moving code between modules cannot leave a stale cached model.

    python scripts/model.py dev          # print the dev model path, training it if missing
    python scripts/model.py production   # ensure models/production/model.tar.gz exists
    python scripts/model.py hash
"""
from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Set

import yaml

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ROOT / "models" / "production" / "model.tar.gz"
DEV_DIR = ROOT / "models" / "dev"
# Training inputs that are data, not code (folders are hashed whole).
# domain.yml: one-file projects; concepts.yml: the intent classifier's lexicon (issue 22)
DATA_INPUTS = ("config.yml", "domain", "domain.yml", "data", "credit/catalogue.yml", "nlu_components/concepts.yml")


def custom_components(config: Path) -> List[str]:
    """Dotted names of the pipeline and policy components that are not Rasa's own (a module path)."""
    doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    names = [item.get("name", "") for key in ("pipeline", "policies") for item in doc.get(key) or []
             if isinstance(item, dict)]
    return [name for name in names if isinstance(name, str) and "." in name]


def module_file(module: str, root: Path) -> Optional[Path]:
    """The project file of a dotted module name, or None when it is not the project's."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _component_module(name: str, root: Path) -> Optional[str]:
    """``pkg.module.Class`` -> ``pkg.module`` (the longest prefix that is a project module)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if module_file(".".join(parts[:end]), root) is not None:
            return ".".join(parts[:end])
    return None


def imported_modules(path: Path, module: str, root: Path) -> Set[str]:
    """Project modules that ``path`` (module ``module``) imports anywhere in its body, lazy imports
    inside functions and ``TYPE_CHECKING`` blocks included. ``from a.b import c`` names ``a.b.c``
    when that is a module, else ``a.b``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if module_file(alias.name, root) is not None)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}" if base else alias.name
                if module_file(target, root) is not None:
                    found.add(target)
                elif base and module_file(base, root) is not None:
                    found.add(base)
    return found


def _with_packages(module: str) -> Iterable[str]:
    """A module and the packages above it (importing ``a.b.c`` runs ``a`` and ``a.b`` first)."""
    parts = module.split(".")
    return (".".join(parts[:end]) for end in range(1, len(parts) + 1))


def component_sources(root: Path = ROOT) -> List[Path]:
    """Every project source file that the custom components of ``root/config.yml`` import."""
    pending = [m for name in custom_components(root / "config.yml")
               if (m := _component_module(name, root)) is not None]
    seen: Set[str] = set()
    while pending:
        module = pending.pop()
        for name in _with_packages(module):
            path = module_file(name, root)
            if name in seen or path is None:
                continue
            seen.add(name)
            pending.extend(imported_modules(path, name, root) - seen)
    return sorted({p for name in seen if (p := module_file(name, root)) is not None})


def model_inputs(root: Path = ROOT) -> List[Path]:
    """Every file whose content changes what a trained model does."""
    files: Set[Path] = set(component_sources(root))
    for name in DATA_INPUTS:
        path = root / name
        if path.is_dir():
            files.update(p for p in path.rglob("*") if p.is_file() and p.suffix != ".pyc")
        elif path.is_file():
            files.add(path)
    return sorted(files)


def project_hash(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for file in model_inputs(root):
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def dev_model() -> Path:
    """The cached dev model of the current project, trained (about 5 minutes) if missing."""
    target = DEV_DIR / f"{project_hash()}.tar.gz"
    if target.exists():
        return target
    DEV_DIR.mkdir(parents=True, exist_ok=True)
    print(f">> 训练模型 {target.name} (约 5 分钟)...", file=sys.stderr, flush=True)
    cmd = [str(ROOT / ".venv" / "bin" / "rasa"), "train", "--config", "config.yml", "--domain", "domain",
           "--data", "data", "--out", str(DEV_DIR), "--fixed-model-name", target.name[: -len(".tar.gz")]]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=sys.stderr)
    if not target.exists():
        raise SystemExit(f"训练完成但没有找到模型文件 {target}")
    return target


def production_model() -> Path:
    if not PRODUCTION.exists():
        source = dev_model()
        PRODUCTION.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, PRODUCTION)
        print(f">> 尚无生产模型，已将 {source.name} 设为生产模型", file=sys.stderr)
    return PRODUCTION


COMMANDS = {"hash": project_hash, "dev": dev_model, "production": production_model}


def main(argv: Sequence[str] = ()) -> int:
    what = argv[0] if argv else "dev"
    if what not in COMMANDS:
        raise SystemExit(__doc__)
    print(COMMANDS[what]())
    return 0
