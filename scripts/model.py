"""Model paths: a development model cached by the hash of everything that shapes it,
and the stable production path that `rasa run` is always given explicitly.

    python scripts/model.py dev          # print the dev model path, training it if missing
    python scripts/model.py production   # ensure models/production/model.tar.gz exists
    python scripts/model.py hash
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ROOT / "models" / "production" / "model.tar.gz"
DEV_DIR = ROOT / "models" / "dev"
# Everything that changes what the trained model does.
INPUTS = ["config.yml", "domain", "data", "nlu_components", "credit/catalogue.yml", "credit/numbers.py"]


def project_hash() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".pyc" or not file.exists():
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def dev_model() -> Path:
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


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "dev"
    if what == "hash":
        print(project_hash())
    elif what == "dev":
        print(dev_model())
    elif what == "production":
        print(production_model())
    else:
        raise SystemExit(__doc__)
