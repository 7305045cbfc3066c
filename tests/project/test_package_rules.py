"""Each package of ``credit/`` and ``ops/`` imports only what its docstring allows, and the packages form no cycle.

The contract is written where a newcomer reads it: every package's ``__init__.py`` docstring ends with a
``May import:`` line; the modules at the root of ``credit/`` and ``ops/`` (the core and the entry points) are
listed under ``Core modules:`` / ``Root modules:`` in the root docstring, one line each (``- a, b: targets``).
A target names a package (``credit.catalogue``: anything in it) or a module (``credit.errors``); ``nothing``
means no project import at all, ``anything`` is for the command-line entry points that wire packages
together.  Imports inside a package, and of the standard library and third-party packages, are always allowed.
Every import counts, lazy ones included (``ops.model_cache.imported_modules``).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import networkx as nx
import pytest

from harness.paths import ROOT
from ops.model_cache import imported_modules

LAYERED = ("credit", "ops")
PROJECT = ("credit", "ops", "actions", "connectors", "server", "nlu_components", "outreach", "harness", "bench")


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def _entries(text: str) -> Iterator[Tuple[str, str]]:
    """``(head, targets)`` of every ``May import:`` / ``- names: targets`` entry, continuation lines joined."""
    head: Optional[str] = None
    body: List[str] = []
    for line in text.splitlines() + [""]:
        starts = re.match(r"^(May import|- [\w, ]+):\s*(.*)$", line)
        if starts or not line.startswith("  "):
            if head is not None:
                yield head, " ".join(body)
            head, body = (starts.group(1), [starts.group(2)]) if starts else (None, [])
        else:
            body.append(line.strip())


def _targets(text: str) -> Set[str]:
    if text.startswith("nothing"):
        return set()
    if text.startswith("anything"):
        return {"*"}
    return {t.strip() for t in text.split(",") if t.strip()}


def unit_of(module: str) -> str:
    """The package a module belongs to (``credit.catalogue``), or the root module itself (``credit.errors``)."""
    parts = module.split(".")
    if len(parts) >= 2 and (ROOT / parts[0] / parts[1] / "__init__.py").is_file():
        return ".".join(parts[:2])
    return module if len(parts) >= 2 else parts[0]


def declared_rules() -> Dict[str, Set[str]]:
    rules: Dict[str, Set[str]] = {}
    for top in LAYERED:
        for head, text in _entries(_docstring(ROOT / top / "__init__.py")):
            if head.startswith("- "):
                for name in head[2:].split(","):
                    rules[f"{top}.{name.strip()}"] = _targets(text)
        for init in sorted((ROOT / top).glob("*/__init__.py")):
            allowed = [text for head, text in _entries(_docstring(init)) if head == "May import"]
            rules[f"{top}.{init.parent.name}"] = _targets(allowed[0]) if allowed else {"<undeclared>"}
    return rules


def edges() -> Iterator[Tuple[str, str, str]]:
    """``(unit, module, imported project module)`` for every import leaving a unit of credit/ or ops/."""
    for top in LAYERED:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if module == top:
                continue
            unit = unit_of(module)
            for target in imported_modules(path, module, ROOT):
                if target.split(".")[0] in PROJECT and unit_of(target) != unit:
                    yield unit, module, target


def _allowed(target: str, allowed: Set[str]) -> bool:
    return any(a == "*" or target == a or target.startswith(a + ".") for a in allowed)


@pytest.fixture(scope="module")
def rules() -> Dict[str, Set[str]]:
    return declared_rules()


def test_every_package_and_root_module_declares_what_it_may_import(rules: Dict[str, Set[str]]) -> None:
    units = {unit for unit, _, _ in edges()}
    for top in LAYERED:
        units.update(f"{top}.{p.stem}" for p in (ROOT / top).glob("*.py") if p.stem != "__init__")
        units.update(f"{top}.{p.parent.name}" for p in (ROOT / top).glob("*/__init__.py"))
    undeclared = sorted(u for u in units if u not in rules or "<undeclared>" in rules[u])
    assert not undeclared, f"add a 'May import:' line (or a root-module line) for: {undeclared}"


def test_no_package_imports_what_its_docstring_does_not_allow(rules: Dict[str, Set[str]]) -> None:
    bad = sorted(f"{module} imports {target} (not in {unit}'s 'May import')"
                 for unit, module, target in edges() if not _allowed(target, rules.get(unit, set())))
    assert not bad, "\n".join(bad)


def test_the_declared_rules_name_only_real_packages_and_modules(rules: Dict[str, Set[str]]) -> None:
    def exists(name: str) -> bool:
        base = ROOT.joinpath(*name.split("."))
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()

    assert not sorted(t for targets in rules.values() for t in targets if t != "*" and not exists(t))


def test_the_packages_form_no_cycle() -> None:
    graph = nx.DiGraph()
    for unit, _, target in edges():
        graph.add_edge(unit, unit_of(target))
    assert not list(nx.simple_cycles(graph))


def test_the_rule_checker_catches_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself can fail: a docstring that forbids an import the code makes is reported."""
    text = '"""A package.\n\nMay import: credit.text,\n  credit.db\n"""\n'
    assert [(h, _targets(t)) for h, t in _entries(ast.get_docstring(ast.parse(text)) or "")] == [
        ("May import", {"credit.text", "credit.db"})]
    assert not _allowed("credit.catalogue.loader", {"credit.text", "credit.db"})
    assert _allowed("credit.db.engine", {"credit.db"})


def test_the_layer_picture_in_the_architecture_doc_is_the_real_one() -> None:
    from scripts.package_graph import DOC, doc_block, mermaid  # scripts/ is a namespace package on the root path

    assert doc_block(DOC.read_text(encoding="utf-8")) == mermaid(), \
        "docs/architecture.md is stale: run .venv/bin/python scripts/package_graph.py --write"
