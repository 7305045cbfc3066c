"""Service agents' ticket verbs: ``python -m ops tickets close`` and ``python -m ops callbacks`` (logged in).

Offers: ``cli`` (registers the ``tickets`` and ``callbacks`` verbs on the ops command line).

May import: credit.catalogue, credit.clock, credit.db, credit.errors, credit.policy, credit.service, credit.text,
  credit.tickets, ops.access, ops.project, ops.retrain
"""
