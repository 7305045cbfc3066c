"""The folders show the architecture: short modules, small folders, no file-name prefix standing in for a package.

Every tracked (or new, not ignored) Python file counts, tests included. A test module's ``test_`` is not a
prefix (pytest needs it); what follows it is (``test_ops_cli.py``, ``test_ops_gate.py`` … would be a family).
"""
from __future__ import annotations

import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List

from harness.paths import ROOT

MAX_LINES = 450
MAX_MODULES = 20
MAX_FAMILY = 2  # three files sharing a prefix should be a package


def python_files() -> List[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.py"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / f for f in sorted(set(out)) if (ROOT / f).is_file()]  # a conflicted file is listed per stage


def by_folder() -> Dict[Path, List[str]]:
    folders: Dict[Path, List[str]] = defaultdict(list)
    for path in python_files():
        if path.name != "__init__.py":
            folders[path.parent].append(path.stem)
    return folders


def family(stem: str) -> str:
    name = stem[len("test_"):] if stem.startswith("test_") else stem
    return name.split("_")[0] if "_" in name else ""


def test_no_module_is_over_450_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in python_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long


def test_no_folder_holds_more_than_20_modules() -> None:
    assert not {str(d.relative_to(ROOT)): len(m) for d, m in by_folder().items() if len(m) > MAX_MODULES}


def test_no_file_name_prefix_stands_in_for_a_package() -> None:
    families = {}
    for folder, stems in by_folder().items():
        for prefix, count in Counter(f for s in stems if (f := family(s))).items():
            if count > MAX_FAMILY:
                families[f"{folder.relative_to(ROOT)}/{prefix}_*"] = count
    assert not families


def test_the_family_rule_reads_names_as_meant() -> None:
    assert family("test_ops_cli") == "ops" and family("catalogue_schema") == "catalogue"
    assert family("test_catalogue") == "" and family("engine") == ""
