"""Personal information: PIPL requests (find, export, delete), the masked conversation viewer, and the retention
purge of the ops team's own records of customers.

Offers: ``pipl``, ``bundle`` (what an export holds), ``conversations``, ``cli`` (``python -m ops pipl``),
``retention`` (``python -m ops.privacy.retention``, run by ``make purge``).

May import: credit.catalogue, credit.db, credit.text, ops.access, ops.project, ops.retrain, ops.statedb, ops.text,
  server.purge, server.settings
"""
