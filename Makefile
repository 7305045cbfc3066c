# 信贷客服助手 — two commands on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
RASA  := $(VENV)/bin/rasa

.PHONY: run test venv sysdeps lint unit validate train model-dev rasa-test e2e bench seed lock clean

run:
	scripts/run.sh

venv:
	scripts/setup_venv.sh

# Debian packages the tests use (headless Chromium for the web chat test).
sysdeps:
	scripts/system_deps.sh

lint: venv
	$(VENV)/bin/ruff check .

unit: venv
	$(PY) -m pytest tests/unit -q

validate: venv
	$(RASA) data validate --config config.yml --domain domain --data data --fail-on-warnings

train: venv
	@$(PY) scripts/model.py dev

rasa-test: venv
	$(PY) scripts/rasa_test.py

e2e: venv sysdeps
	$(PY) -m pytest tests/e2e tests/channels -q

# CI order: lint -> action/unit tests -> data validate -> train (cached) -> rasa test (stories + NLU) -> end-to-end.
test: sysdeps lint unit validate train rasa-test e2e
	@echo "make test: 全部通过"

bench: venv
	$(PY) bench/nlu_bench.py

seed: venv
	$(PY) -m credit.seed --reset

lock: venv
	$(PY) -m pip freeze --exclude-editable | sed '1i # Full lock of the tested environment (pip freeze, Python 3.10). Regenerate with: make lock' > constraints.txt

clean:
	rm -rf models/dev results .pytest_cache
