"""Operators' ticket verbs: ``python -m ops tickets close``.

Offers: ``cli`` (registers the ``tickets`` verbs on the ops command line).

May import: credit.clock, credit.db, credit.errors, credit.policy, credit.text, credit.tickets, ops.access,
  ops.project, ops.retrain
"""
