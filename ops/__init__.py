"""Operations: ``python -m ops <step>``, the weekly retraining workflow and the web console (README 运营手册).

Packages: ``ops.retrain`` (export → import → validate → train → evaluate → promote/rollback, and the NLU
evaluator), ``ops.access`` (console accounts, the role table, CLI logins and tokens, the audit log),
``ops.privacy`` (PIPL requests, the masked conversation viewer, retention of ops records), ``ops.tickets`` (an
agent closes a ticket, lists call-backs), ``ops.console`` (the aiohttp console and its views).  Root modules
each may import only what its line lists (checked by ``tests/project/test_package_rules.py``, with every
package's own "May import" line):

Root modules:
- model_cache, progress: nothing of ops or credit
- project: ops.model_cache
- statedb: ops.project
- text: credit.text
- cli, __main__: anything in ops and credit (the entry point)
"""
