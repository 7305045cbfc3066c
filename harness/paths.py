"""Where the project, its virtual environment and its deployment files are."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
RASA = str(VENV_BIN / "rasa")
DEPLOY = ROOT / "deploy"
CREDENTIALS = ROOT / "credentials.yml"
