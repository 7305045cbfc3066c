"""The Rasa code the hardening replaces, wraps, copies or relies on is still the code it was
written against (Rasa 3.6.21): every member a registered patch lists is fingerprinted, so a
Rasa upgrade fails here, loudly, naming each member to review.  The registry is the list:
a new patch joins this test by registering, and the last test checks that the patches
assign nothing in Rasa that the registry does not list.
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from harness.paths import ROOT as PROJECT_ROOT
from server.patches import REGISTRY, How, Member, processor
from server.patches.fingerprint import check, mismatches, normalised_source, source_fingerprint
from server.patches.registry import original, replace

ROOT = PROJECT_ROOT
ALL_MEMBERS: List[Member] = [member for patch in REGISTRY.values() for member in patch.members]


def test_every_hardening_concern_is_registered_with_its_members() -> None:
    assert set(REGISTRY) == {"actions", "app", "connections", "lock_store", "logging", "output_guard", "processor",
                             "replay", "sessions", "tracker_store"}
    for patch in REGISTRY.values():
        assert patch.members and patch.purpose, patch.name
        assert any(member.assigned for member in patch.members), patch.name
    keys = [member.key for member in ALL_MEMBERS]
    assert len(keys) == len(set(keys)), "a Rasa member is listed by two patches"
    # the two method bodies copied from Rasa are marked as copies
    assert {m.key for m in ALL_MEMBERS if m.how is How.COPIED} >= {
        "rasa.core.processor:MessageProcessor.handle_message", "rasa.core.tracker_store:SQLTrackerStore.save"}


@pytest.mark.parametrize("member", ALL_MEMBERS, ids=lambda m: m.key)
def test_installed_rasa_member_has_the_recorded_fingerprint(member: Member) -> None:
    problem = check(member)
    assert problem is None, (
        f"{problem}\nRasa changed under a hardening patch: review the patch against the new code, then record "
        "the new fingerprint (python -m server.patches.fingerprint prints them)")


# ----------------------------------------------------------------- altered copies fail


def _fake_rasa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return name


def test_a_deliberately_altered_copy_of_a_rasa_member_is_reported(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = inspect.getsource(original(processor.HANDLE))
    altered = real.replace("await self.save_tracker(tracker)", "pass", 1)
    assert altered != real
    reformatted = real.replace("        tracker = await", "        # a comment\n\n        tracker = await", 1)
    module = _fake_rasa(tmp_path, monkeypatch, "fake_rasa_processor", "from __future__ import annotations\n\n"
                        + "".join(f"\n\nclass {cls}:\n{source}" for cls, source in
                                  (("Same", real), ("Reformatted", reformatted), ("Altered", altered)))
                        + "\n\nDEFAULT_REQUEST_TIMEOUT = 301\n")

    def fake(qualname: str, how: How = How.COPIED, sha256: str = processor.HANDLE.sha256) -> Member:
        return Member(module, qualname, how, sha256)

    # the same code elsewhere, or with comments and blank lines added, keeps its fingerprint
    assert check(fake("Same.handle_message")) is None
    assert check(fake("Reformatted.handle_message")) is None
    # one changed line does not
    problem = check(fake("Altered.handle_message"))
    assert problem is not None and "source changed" in str(problem)
    assert problem.found == source_fingerprint(altered) != processor.HANDLE.sha256
    # a member that is gone, and a constant with another value, are reported too
    gone = check(fake("Same.handle_message_v2"))
    assert gone is not None and gone.found is None and "cannot be read" in str(gone)
    from server.patches import actions

    assert check(fake("DEFAULT_REQUEST_TIMEOUT", How.VALUE, actions.TIMEOUT.sha256)) is not None
    # a patch's list with one altered member reports exactly that one
    members = [fake("Same.handle_message"), fake("Altered.handle_message"), fake("Reformatted.handle_message")]
    assert [m.member.qualname for m in mismatches(members)] == ["Altered.handle_message"]


def test_normalised_source_ignores_layout_and_comments_but_not_code() -> None:
    base = "def f(x):\n    return x + 1\n"
    assert normalised_source(base) == normalised_source("    def f( x ):  # why\n\n        return x+1\n")
    assert normalised_source(base) != normalised_source("def f(x):\n    return x + 2\n")
    assert normalised_source(base) != normalised_source("def f(x):\n    if x:\n        return x + 1\n")


def test_a_patch_can_only_assign_members_the_registry_lists() -> None:
    undeclared = Member("rasa.core.processor", "MessageProcessor.handle_message", How.REPLACED, "0" * 64)
    with pytest.raises(LookupError):
        replace(undeclared, lambda *_: None)
    with pytest.raises(LookupError):  # listed as relied on, not as assigned
        replace(processor.PREDICTION_LOOP, lambda *_: None)


# ------------------------------------------------------- the registry lists every change

_DIFF_SCRIPT = textwrap.dedent('''
    import importlib, inspect, json, sys
    from server import hardening
    from server.patches import REGISTRY
    from server.settings import Settings

    for patch in REGISTRY.values():
        for member in patch.members:
            importlib.import_module(member.module)

    def rasa_modules():
        return {n: m for n, m in list(sys.modules.items()) if m is not None and (n == "rasa" or n.startswith("rasa."))}

    def snapshot(modules):
        seen = {}
        for name, module in modules.items():
            for attr, value in list(vars(module).items()):
                if inspect.ismodule(value):
                    continue
                seen[f"{name}:{attr}"] = value
                if inspect.isclass(value) and value.__module__ == name:
                    for class_attr, class_value in list(vars(value).items()):
                        seen[f"{name}:{value.__qualname__}.{class_attr}"] = class_value
        return seen

    modules = rasa_modules()
    before = snapshot(modules)
    report = hardening.apply(Settings.from_env({}), env={})
    after = snapshot(modules)
    print(json.dumps({
        "applied": report.applied,
        "changed": sorted(key for key, value in after.items() if key not in before or before[key] is not value),
        "new_rasa_modules": sorted(set(rasa_modules()) - set(modules)),
    }))
''')


def test_the_patches_change_exactly_the_members_the_registry_lists() -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HARDENING_")}
    done = subprocess.run([sys.executable, "-c", _DIFF_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["applied"] == sorted(REGISTRY)
    assert result["changed"] == sorted(m.key for m in ALL_MEMBERS if m.assigned), (
        "the patches assigned Rasa members the registry does not list (or listed ones they did not assign)")
    # a patch that imported more Rasa modules could have changed them unseen
    assert result["new_rasa_modules"] == []
