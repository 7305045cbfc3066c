"""Print the package layers of credit/ and ops/ as a Mermaid graph, from the real imports.

`docs/architecture.md` embeds this output between the ``package-graph`` markers, and
`tests/project/test_package_rules.py` fails when the two differ, so the picture is never stale:

    .venv/bin/python scripts/package_graph.py            # print the graph
    .venv/bin/python scripts/package_graph.py --write    # rewrite the block in docs/architecture.md

An arrow is an import; arrows implied by a longer path are left out (transitive reduction). The modules at the
root of ``credit/`` are drawn by tier, as ``credit/__init__.py`` groups them.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import networkx as nx

from harness.paths import ROOT
from ops.model_cache import imported_modules

DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- package-graph:begin -->", "<!-- package-graph:end -->"
CORE_TIERS: Dict[str, Tuple[str, ...]] = {
    "credit core: foundation": ("clock", "errors", "policy", "replies", "session_carry", "views", "store"),
    "credit core: rules": ("calculators", "compliance"),
    "credit core: service": ("verification", "loans", "rules_sms", "service", "entities", "wechat_identity"),
    "credit.seed": ("seed", "migrate"),
    "ops root": ("model_cache", "progress", "project", "statedb", "text"),
    "ops.cli": ("cli", "__main__"),
}


def node_of(module: str) -> str:
    parts = module.split(".")
    top = parts[0]
    if len(parts) >= 2 and (ROOT / top / parts[1] / "__init__.py").is_file():
        return f"{top}.{parts[1]}"
    leaf = parts[1] if len(parts) >= 2 else ""
    for tier, members in CORE_TIERS.items():
        if tier.startswith(top) and leaf in members:
            return tier
    return top


def modules() -> Iterator[Tuple[str, Path]]:
    for top in ("credit", "ops"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__" and len(parts) <= 2:
                continue
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def package_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module, path in modules():
        source = node_of(module)
        graph.add_node(source)
        for target in imported_modules(path, module, ROOT):
            if target.split(".")[0] in ("credit", "ops") and node_of(target) != source:
                graph.add_edge(source, node_of(target))
    return graph


def mermaid() -> str:
    graph = nx.transitive_reduction(package_graph())
    ids = {name: f"n{i}" for i, name in enumerate(sorted(graph.nodes))}
    lines: List[str] = ["```mermaid", "flowchart BT"]
    lines += [f'  {ids[name]}["{name}"]' for name in sorted(graph.nodes)]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(graph.edges)]
    lines.append("```")
    return "\n".join(lines)


def doc_block(text: str) -> str:
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip() if BEGIN in text else ""


def main(argv: List[str]) -> int:
    graph = mermaid()
    if "--write" in argv:
        text = DOC.read_text(encoding="utf-8")
        head, rest = text.split(BEGIN, 1)
        DOC.write_text(f"{head}{BEGIN}\n{graph}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")
    else:
        print(graph)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
