"""Today's build of this project, frozen: the reference that per-turn cost is compared with.

The turn-cost issue asks that every change be measured in the same run against bare Rasa *and*
against the project as it was when the issue was filed, so that an improvement (or a regression)
of our own code shows next to Rasa's.  :data:`REFERENCE_COMMIT` is that build: its source is
exported with ``git archive`` into ``var/bench/ref-<commit>/`` (no worktree to clean up), its model
is trained once from its own config, domain and data into ``models/bench/ref-<commit>.tar.gz``
(cached), and it runs with its own code: every process starts in that folder, so ``python -m``
imports its packages, not this checkout's.

    .venv/bin/python -m bench.reference          # prepare (export + train) and print the paths
"""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from harness.paths import RASA, ROOT
from harness.rasa import base_env
from harness.stacks import AssistantStack

#: main before the turn-cost work (2026-11-30): issue 9's NLU and issue 10's structure, no bounded
#: sessions, Rasa's polling in-memory lock, a new HTTP session per action call.
REFERENCE_COMMIT = "357a630"


def source(commit: str = REFERENCE_COMMIT) -> Path:
    """The build's source tree, exported once."""
    dest = ROOT / "var" / "bench" / f"ref-{commit}"
    done = dest / ".exported"
    if not done.exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest)  # noqa: S202 - our own repository's archive
        done.write_text(commit)
    return dest


def model(commit: str = REFERENCE_COMMIT) -> Path:
    """The build's model, trained once with its own code, config, domain and data."""
    src = source(commit)
    out = ROOT / "models" / "bench"
    path = out / f"ref-{commit}.tar.gz"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        print(f">> training the reference build {commit} (once)", file=sys.stderr, flush=True)
        subprocess.run([RASA, "train", "--config", "config.yml", "--domain", "domain", "--data", "data",
                        "--out", str(out), "--fixed-model-name", f"ref-{commit}"],
                       cwd=src, env=base_env(RASA_CACHE_DIRECTORY=str(src / ".rasa-cache")), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def reference_stack(env: Optional[Mapping[str, Any]] = None,
                    commit: str = REFERENCE_COMMIT) -> Tuple[AssistantStack, str]:
    """An (unstarted) stack of the frozen build, and its label for reports."""
    return AssistantStack(model(commit), env=env, root=source(commit)), f"today's build ({commit})"


if __name__ == "__main__":
    print(source(), model())
