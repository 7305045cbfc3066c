"""Model paths (ops/model_cache.py): the cached dev model and the production model.

    python scripts/model.py dev          # print the dev model path, training it if missing
    python scripts/model.py production   # ensure models/production/model.tar.gz exists
    python scripts/model.py hash         # the cache key of the dev model
"""
from __future__ import annotations

import sys

from ops.model_cache import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
