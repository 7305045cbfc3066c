"""The ops web console (``python -m ops serve``): aiohttp + Jinja2 over the ``ops`` packages.

Offers: ``server`` (the app), ``security``/``context`` (login, guards; role table and sessions: ``ops.access``),
``render`` (autoescaped templates), ``jobs`` (train/evaluate/promote/rollback in the background), ``metrics``
(dashboard figures and CSV), ``views`` (one module a page family).

May import: credit.compliance, credit.db, credit.guard, credit.text, ops.access, ops.privacy, ops.project, ops.retrain,
  ops.statedb, ops.text
"""
