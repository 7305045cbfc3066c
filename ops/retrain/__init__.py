"""The retraining workflow, one module a step: export, import, validate, train, evaluate (gate), promote/rollback.

Offers: ``export``/``sheet`` (the review spreadsheet), ``importer``/``ledger`` (annotated rows into training data,
with the corrections ledger), ``validate``, ``train``, ``gate``/``gate_result``/``report`` (candidate vs
production), ``promote``/``store`` (the production model slot, its history, rollback), ``inbox`` (未识别问题),
``nlu_eval`` (loading, scoring and the in-process predictor used by ``make bench``).

May import: credit.compliance, credit.db, credit.guard, nlu_components, ops.progress, ops.project, ops.statedb, ops.text
"""
