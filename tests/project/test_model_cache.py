"""The dev model's cache key follows the imports of the custom NLU components: a change in a
module they import, even indirectly or lazily, gives a new key; code they never import does not."""
from __future__ import annotations

from pathlib import Path

import pytest

from ops.model_cache import ROOT, component_sources, model_inputs, project_hash

CONFIG = """\
language: zh
pipeline:
  - name: WhitespaceTokenizer
  - name: comps.extractor.MyExtractor
policies:
  - name: RulePolicy
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        "config.yml": CONFIG,
        "domain/base.yml": "intents: [greet]\n",
        "data/nlu.yml": "nlu: []\n",
        "credit/catalogue.yml": "products: []\n",
        "comps/__init__.py": "",
        "comps/extractor.py": "from lib.numbers import parse\n\n\nclass MyExtractor:\n    pass\n",
        "lib/__init__.py": "",
        "lib/numbers.py": "def parse(text):\n    from .tables import TABLE\n\n    return TABLE.get(text)\n",
        "lib/tables.py": "from lib import deep\n\nTABLE = {}\n",
        "lib/deep.py": "WORDS = ['万']\n",
        "lib/unused.py": "UNUSED = 1\n",
        "actions/__init__.py": "",
        "actions/forms.py": "import lib.unused\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_sources_are_found_by_following_imports(project: Path) -> None:
    names = {str(p.relative_to(project)) for p in component_sources(project)}
    assert names == {"comps/__init__.py", "comps/extractor.py", "lib/__init__.py", "lib/numbers.py",
                     "lib/tables.py", "lib/deep.py"}
    inputs = {str(p.relative_to(project)) for p in model_inputs(project)}
    assert {"config.yml", "domain/base.yml", "data/nlu.yml", "credit/catalogue.yml"} <= inputs
    assert "lib/unused.py" not in inputs and "actions/forms.py" not in inputs


def test_a_change_in_a_transitively_imported_module_changes_the_hash(project: Path) -> None:
    before = project_hash(project)
    (project / "lib" / "deep.py").write_text("WORDS = ['万', '千']\n", encoding="utf-8")
    assert project_hash(project) != before


def test_moving_code_into_a_new_module_changes_the_hash(project: Path) -> None:
    before = project_hash(project)
    (project / "lib" / "moved.py").write_text("TABLE = {}\n", encoding="utf-8")
    (project / "lib" / "tables.py").write_text("from lib import deep\nfrom lib.moved import TABLE\n",
                                               encoding="utf-8")
    after = project_hash(project)
    assert after != before
    (project / "lib" / "moved.py").write_text("TABLE = {'x': 1}\n", encoding="utf-8")
    assert project_hash(project) != after


def test_code_the_components_do_not_import_leaves_the_hash_alone(project: Path) -> None:
    before = project_hash(project)
    (project / "lib" / "unused.py").write_text("UNUSED = 2\n", encoding="utf-8")
    (project / "actions" / "forms.py").write_text("import lib.unused  # changed\n", encoding="utf-8")
    assert project_hash(project) == before


def test_training_data_changes_the_hash(project: Path) -> None:
    before = project_hash(project)
    (project / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - 你好\n", encoding="utf-8")
    assert project_hash(project) != before


def test_the_real_project_hashes_what_its_entity_extractor_imports() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in component_sources()}
    assert "nlu_components/credit_entities.py" in names
    assert "credit/text/numbers.py" in names  # imported by the extractor, so a change there retrains
