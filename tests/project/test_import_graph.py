"""No import cycle among the project's modules, and the layers point one way.

Every import counts, lazy ones inside functions and ``TYPE_CHECKING`` blocks included: a cycle
hidden in a function is still two modules that cannot be understood (or moved) one without
the other. ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Set

import networkx as nx
import pytest

from harness.paths import ROOT
from ops.model_cache import imported_modules

# Production code never reaches into the tooling; ops never into the benchmarks or the harness;
# nothing installed imports the tests.
FORBIDDEN: Dict[str, Set[str]] = {
    "actions": {"bench", "harness", "ops", "tests"},
    "connectors": {"bench", "harness", "ops", "tests"},
    "credit": {"bench", "harness", "ops", "tests"},
    "nlu_components": {"bench", "harness", "ops", "tests"},
    "server": {"bench", "harness", "ops", "tests"},
    "ops": {"bench", "harness", "tests"},
    "harness": {"bench", "tests"},
    "bench": {"tests"},
}


def project_packages() -> List[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    files = [p for package in project_packages() for p in (ROOT / package).rglob("*.py")]
    files += sorted((ROOT / "scripts").glob("*.py"))
    for path in files:
        name = module_name(path)
        graph.add_node(name)
        for target in imported_modules(path, name, ROOT):
            if target != name:
                graph.add_edge(name, target)
    return graph


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return import_graph()


def test_the_graph_covers_the_project(graph: nx.DiGraph) -> None:
    assert {"actions", "bench", "connectors", "credit", "harness", "nlu_components", "ops", "server"} <= set(
        project_packages())
    assert graph.has_edge("bench.load", "harness.rasa")
    assert graph.has_edge("ops.retrain.gate", "ops.retrain.nlu_eval")


def test_no_import_cycle(graph: nx.DiGraph) -> None:
    cycles = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            cycle = nx.find_cycle(graph.subgraph(component))
            cycles.append(" -> ".join([edge[0] for edge in cycle] + [cycle[0][0]]))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_layers_point_one_way(graph: nx.DiGraph) -> None:
    wrong = sorted(f"{a} imports {b}" for a, b in graph.edges
                   if b.split(".")[0] in FORBIDDEN.get(a.split(".")[0], set()))
    assert not wrong, "\n".join(wrong)


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import f\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    assert imported_modules(tmp_path / "pkg" / "a.py", "pkg.a", tmp_path) == {"pkg.b"}
    assert imported_modules(tmp_path / "pkg" / "b.py", "pkg.b", tmp_path) == {"pkg.a"}
