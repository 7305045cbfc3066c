# 信贷客服助手 — two commands on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
RASA  := $(VENV)/bin/rasa

.PHONY: run test venv tools-venv sysdeps scale-deps lint unit validate train rasa-test e2e bench bench-perf \
        bench-dialogue profile fuzz load scaleout purge seed lock image-lock tools-lock image clean

run:
	scripts/run.sh

venv:
	scripts/setup_venv.sh

# checkov + kubernetes-validate for tests/deploy/, in .venv-tools (they conflict with Rasa's pins in .venv)
tools-venv:
	scripts/setup_tools_venv.sh

# Debian packages the tests use: Chromium, PostgreSQL, Redis, nginx (scale-deps is the same set).
sysdeps scale-deps:
	scripts/system_deps.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint Dockerfile

# Unit tests, plus the project checks: no import cycle, the model cache key, the Makefile itself; and the
# deployment checks: image lock, Kubernetes schemas, checkov, manifests against the code (tests/deploy/).
unit: venv tools-venv
	$(PY) -m pytest tests/unit tests/project tests/deploy -q

validate: venv
	$(RASA) data validate --config config.yml --domain domain --data data --fail-on-warnings

train: venv
	@$(PY) scripts/model.py dev

rasa-test: venv
	$(PY) scripts/rasa_test.py

# End-to-end on running servers, the NLU checks on the dev model (tests/nlu: confusable pairs), plus the short
# fault, fuzz, load and scale-out tests.
e2e: venv sysdeps
	$(PY) -m pytest tests/e2e tests/nlu tests/channels tests/ops tests/console tests/resilience tests/fuzz tests/scale -q --durations=25

# CI order: lint -> action/unit tests -> data validate -> train (cached) -> rasa test (stories + NLU) -> end-to-end.
test: sysdeps lint unit validate train rasa-test e2e
	@echo "make test: 全部通过"

bench: venv
	$(PY) bench/nlu_bench.py

# The frozen fresh conversation set (tests/dialogue/fresh_set.yml) through REST: pass rate per kind (issue 21).
bench-dialogue: venv
	$(PY) bench/dialogue_bench.py

# Per-turn cost next to a bare `rasa init` bot (issues 14, 25): p50/p95/p99 and throughput at 1, 20 and 50
# concurrent mixed conversations (300/1000/750 turns a bot, each bot alone, two rounds in alternating order,
# spread reported), turn 10 vs turn 200 of one long conversation, a burst from one sender, load, RSS, cold
# start; rewrites the perf section of docs/benchmarks.md (~15 min). Refuses to start when the 1-minute load
# average is above 0.5 (`bench/latency.py --noisy` runs anyway and marks the results noisy).
bench-perf: venv
	$(PY) bench/latency.py --write-docs

# py-spy flame graphs of the Rasa server and the action server under the mixed load at 20 concurrent -> docs/perf/,
# twice (TED prediction cache off, then on) with the ranked cost table in docs/benchmarks.md (~3 min).
profile: venv
	$(PY) -m bench.flamegraphs --compare

# Long fuzz run of every HTTP entry point (the suite runs 25 examples per property).
fuzz: venv
	FUZZ_EXAMPLES=500 $(PY) -m pytest tests/fuzz -q

# Long load test: 500 conversations, 50 at a time, every turn checked in the tracker store.
load: venv
	$(PY) bench/load.py

# Two Rasa servers behind nginx + Redis lock store + PostgreSQL tracker store (about 1-2 min).
scaleout: venv sysdeps
	$(PY) -m bench.scaleout

# Delete conversations, tickets, SMS outbox, exports (python -m server.purge), then the ops audit/PIPL records
# past their retention period (server/settings.py).
purge: venv
	$(PY) -m ops.privacy.retention --all

seed: venv
	$(PY) -m credit.seed --reset

LOCK_HEADER := \# Full lock of the tested environment (pip freeze, Python 3.10). Regenerate with: make lock

# The project itself is installed editable and left out (--exclude-editable).
lock: venv
	$(PY) -m pip freeze --exclude-editable | sed '1i $(LOCK_HEADER)' > constraints.txt
	@echo "constraints.txt 已更新；镜像的哈希锁请运行 make image-lock"

# The container image's hashed locks, derived from constraints.txt (asks the package index; ~1 min).
image-lock: venv
	$(PY) scripts/image_lock.py

tools-lock: tools-venv
	{ echo '# Full lock of .venv-tools (pip freeze of scripts/setup_tools_venv.sh'"'"'s venv, Python 3.11). Regenerate with: make tools-lock'; \
	  .venv-tools/bin/python -m pip freeze; } > deploy/tools/constraints.txt

# Builds the Dockerfile with podman or docker; says so and exits 0 where there is no engine (as here).
image:
	scripts/build_image.sh

clean:
	rm -rf models/dev results .pytest_cache
